import time


class Store:
    def _wait(self) -> None:
        time.sleep(0.01)

    def save(self, item: str) -> str:
        self._wait()
        return item

    @staticmethod
    def ping() -> None:
        time.sleep(0.01)

    @classmethod
    def create(cls, item: str) -> "Store":
        Store.ping()
        return cls()


store = Store()


async def handler(item: str) -> str:
    Store.create(item)
    return store.save(item).upper()

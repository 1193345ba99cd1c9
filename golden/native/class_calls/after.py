import asyncio


class Store:
    async def _wait(self) -> None:
        await asyncio.sleep(0.01)

    async def save(self, item: str) -> str:
        await self._wait()
        return item

    @staticmethod
    async def ping() -> None:
        await asyncio.sleep(0.01)

    @classmethod
    async def create(cls, item: str) -> "Store":
        await Store.ping()
        return cls()


store = Store()


async def handler(item: str) -> str:
    await Store.create(item)
    return (await store.save(item)).upper()

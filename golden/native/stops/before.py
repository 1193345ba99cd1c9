import threading
import time


def pause() -> None:
    time.sleep(0.1)


def score(x: int) -> int:
    time.sleep(0.01)
    return -x


class Resource:
    def __init__(self) -> None:
        pause()

    @property
    def ready(self) -> bool:
        time.sleep(0.01)
        return True

    def __enter__(self) -> "Resource":
        time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def worker() -> None:
    time.sleep(1)


def start() -> None:
    threading.Thread(target=worker).start()


async def handler(xs: list[int]) -> list[int]:
    with Resource() as r:
        assert r.ready
    return sorted(xs, key=score)

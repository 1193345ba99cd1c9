import time


def settle() -> None:
    time.sleep(0.2)


async def handler() -> None:
    time.sleep(1)
    settle()
    x = [settle() for _ in range(2)]

import time


def settle() -> None:
    time.sleep(0.2)


async def handler() -> None:
    time.sleep(1)
    settle()  # a sync helper that sleeps: the helper moves to a thread, its sleep stays sync

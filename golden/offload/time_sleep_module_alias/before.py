import time as t


async def throttle(delay: float) -> None:
    t.sleep(delay)
    print("resumed")

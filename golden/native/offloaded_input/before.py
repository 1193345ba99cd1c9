import asyncio
import time


def settle(delay: float) -> None:
    time.sleep(delay)


def compute(x: int) -> int:
    return x * 2


async def handler(x: int) -> int:
    await asyncio.to_thread(settle, 0.1)
    await asyncio.to_thread(time.sleep, 0.2)
    await asyncio.to_thread(lambda: settle(0.3))
    return await asyncio.to_thread(compute, x)

import time as t
import asyncio


async def throttle(delay: float) -> None:
    await asyncio.sleep(delay)
    print("resumed")

import asyncio
import time as t


async def throttle(delay: float) -> None:
    await asyncio.sleep(delay)
    print("resumed")

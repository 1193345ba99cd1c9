import asyncio
import time


async def schedule() -> None:
    loop = asyncio.get_event_loop()
    loop.call_soon(print, "tick")
    await asyncio.sleep(0.01)

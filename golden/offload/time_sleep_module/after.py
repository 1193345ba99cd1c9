import asyncio
import time


async def poll(job) -> None:
    while not job.done:
        await asyncio.sleep(0.5)  # give the worker a moment

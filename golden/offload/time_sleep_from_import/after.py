from time import sleep
import asyncio


async def backoff(attempt: int) -> None:
    await asyncio.sleep(2 ** attempt)

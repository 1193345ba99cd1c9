import asyncio
from time import sleep


async def backoff(attempt: int) -> None:
    await asyncio.sleep(2 ** attempt)

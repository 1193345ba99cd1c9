import asyncio
import os


async def remove_all(paths: list[str]) -> None:
    await asyncio.gather(*(asyncio.sleep(0) for _ in paths))
    for path in paths:
        os.remove(path)

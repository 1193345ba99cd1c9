import os
import asyncio


async def report(path: str) -> str:
    size = (await asyncio.to_thread(os.path.getsize, path))
    kib = (await asyncio.to_thread(os.path.getsize, path)) // 1024
    return f"{size} {kib}"

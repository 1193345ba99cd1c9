import asyncio
import os


async def size_of(path: str) -> int:
    size = (await asyncio.to_thread(os.path.getsize, path))
    return size


async def kib_of(path: str) -> int:
    kib = (await asyncio.to_thread(os.path.getsize, path)) // 1024
    return kib

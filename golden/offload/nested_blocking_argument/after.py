import asyncio
import os
import shutil


async def archive(src: str, dest: str) -> None:
    await asyncio.to_thread(lambda: shutil.copy(src, os.path.realpath(dest)))


async def size_of(path: str) -> int:
    return await asyncio.to_thread(lambda: os.path.getsize(os.path.realpath(path)))

import os
import shutil


async def archive(src: str, dest: str) -> None:
    shutil.copy(src, os.path.realpath(dest))


async def size_of(path: str) -> int:
    return os.path.getsize(os.path.realpath(path))

import os


async def size_of(path: str) -> int:
    size = (os.path.getsize(path))
    return size


async def kib_of(path: str) -> int:
    kib = (os.path.getsize(path)) // 1024
    return kib

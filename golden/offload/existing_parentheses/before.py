import os


async def report(path: str) -> str:
    size = (os.path.getsize(path))
    kib = (os.path.getsize(path)) // 1024
    return f"{size} {kib}"

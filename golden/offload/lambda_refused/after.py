import os


async def newest_first(paths: list[str]) -> list[str]:
    return sorted(paths, key=lambda p: os.path.getmtime(p), reverse=True)

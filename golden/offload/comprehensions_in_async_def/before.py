import os


async def sizes(paths: list[str]) -> dict[str, int]:
    existing = [p for p in paths if os.path.exists(p)]
    unique = {os.path.realpath(p) for p in existing}
    return {p: os.path.getsize(p) for p in unique}

import os
import asyncio


async def sizes(paths: list[str]) -> dict[str, int]:
    existing = [p for p in paths if await asyncio.to_thread(os.path.exists, p)]
    unique = {await asyncio.to_thread(os.path.realpath, p) for p in existing}
    return {p: await asyncio.to_thread(os.path.getsize, p) for p in unique}

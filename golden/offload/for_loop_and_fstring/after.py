import os
import asyncio


async def describe(directory: str) -> list[str]:
    lines = []
    for name in await asyncio.to_thread(os.listdir, directory):
        lines.append(f"{name}: {await asyncio.to_thread(os.path.getsize, os.path.join(directory, name))} bytes")
    return lines

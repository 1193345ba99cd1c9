import asyncio
import os


async def describe(directory: str) -> list[str]:
    lines = []
    for name in await asyncio.to_thread(os.listdir, directory):
        lines.append(f"{name}: {await asyncio.to_thread(os.path.getsize, os.path.join(directory, name))} bytes")
        await asyncio.sleep(0)  # an await keeps the loop on the event loop: each call moves alone
    return lines

import asyncio
import os


async def describe(directory: str) -> list[str]:
    lines = []
    for name in os.listdir(directory):
        lines.append(f"{name}: {os.path.getsize(os.path.join(directory, name))} bytes")
        await asyncio.sleep(0)  # an await keeps the loop on the event loop: each call moves alone
    return lines

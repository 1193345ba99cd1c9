import asyncio
import os


async def sizes(paths: list[str]) -> dict[str, int]:
    await asyncio.sleep(0)  # an await keeps the body on the event loop: each call moves alone
    existing = [p for p in paths if await asyncio.to_thread(os.path.exists, p)]
    unique = {await asyncio.to_thread(os.path.realpath, p) for p in existing}
    return {p: await asyncio.to_thread(os.path.getsize, p) for p in unique}

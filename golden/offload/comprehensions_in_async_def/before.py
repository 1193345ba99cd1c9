import asyncio
import os


async def sizes(paths: list[str]) -> dict[str, int]:
    await asyncio.sleep(0)  # an await keeps the body on the event loop: each call moves alone
    existing = [p for p in paths if os.path.exists(p)]
    unique = {os.path.realpath(p) for p in existing}
    return {p: os.path.getsize(p) for p in unique}

from __future__ import annotations
import asyncio
import os
import sys


async def cleanup(path: str) -> None:
    await asyncio.to_thread(os.remove, path)
    print("removed", path, file=sys.stderr)

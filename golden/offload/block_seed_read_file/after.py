import asyncio
import json
from pathlib import Path


def _read_file_sync(path: Path) -> dict:
    with open(path) as f:
        return json.load(f)


async def read_file(path: Path) -> dict:
    return await asyncio.to_thread(_read_file_sync, path)

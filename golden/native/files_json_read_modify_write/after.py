import json
import os

import aiofiles
import aiofiles.os


async def load(path: str) -> dict:
    if not await aiofiles.os.path.exists(path):
        return {}
    async with aiofiles.open(path) as f:
        return json.loads(await f.read())


async def save(path: str, data: dict) -> None:
    await aiofiles.os.makedirs(os.path.dirname(path), exist_ok=True)
    async with aiofiles.open(path, "w", encoding="utf-8") as f:
        await f.write(json.dumps(data, indent=2, sort_keys=True))


async def add(path: str, key: str, value: int) -> None:
    data = await load(path)
    data[key] = value
    await save(path, data)

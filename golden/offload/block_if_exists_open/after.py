import asyncio
import json
import os


def _load_or_default_sync(path: str):
    if os.path.exists(path):
        with open(path) as f:
            data = json.load(f)
    else:
        data = {}
    return data


async def load_or_default(path: str, events) -> dict:
    await events.emit("load", path)
    data = await asyncio.to_thread(_load_or_default_sync, path)
    return data

import asyncio
import json


def _load_or_empty_sync(path: str):
    with open(path) as f:
        data = json.load(f)
    return data


async def load_or_empty(path: str, events) -> dict:
    await events.emit("load")
    try:
        data = await asyncio.to_thread(_load_or_empty_sync, path)
    except FileNotFoundError:
        data = {}
    return data

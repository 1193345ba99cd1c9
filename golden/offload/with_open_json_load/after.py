import asyncio
import json


def _load_config_sync(path: str) -> dict:
    with open(path) as f:
        data = json.load(f)
    return data


async def load_config(path: str) -> dict:
    return await asyncio.to_thread(_load_config_sync, path)


def _append_sync(path: str, line: str) -> None:
    with open(path, "a") as f:
        f.write(line)


async def append(path: str, line: str) -> None:
    await asyncio.to_thread(_append_sync, path, line)

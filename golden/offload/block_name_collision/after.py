import asyncio
import os


def _load_sync() -> None:
    """An existing helper of the module: the new ones must not shadow it."""


def _load_sync_2(path: str):
    with open(path) as f:
        a = f.read()
    return a


def _load_sync_3(path: str):
    with open(os.path.join(path, ".bak")) as f:
        b = f.read()
    return b


async def load(path: str, events) -> str:
    a = await asyncio.to_thread(_load_sync_2, path)
    await events.emit(a)
    b = await asyncio.to_thread(_load_sync_3, path)
    return a + b

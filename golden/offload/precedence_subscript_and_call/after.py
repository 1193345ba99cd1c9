import asyncio
import importlib
import os


def load_handler(name: str):
    with open(f"plugins/{name}.txt") as f:
        return getattr(importlib.import_module(f.read().strip()), "handle")


async def first_entry(directory: str) -> str:
    return (await asyncio.to_thread(os.listdir, directory))[0]


async def newest(directory: str) -> str:
    names = sorted(await asyncio.to_thread(os.listdir, directory))
    return names[-1]


async def dispatch(name: str, event: dict) -> None:
    (await asyncio.to_thread(load_handler, name))(event)

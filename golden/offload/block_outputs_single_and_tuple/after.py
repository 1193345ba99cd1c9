import asyncio
import os


def _first_line_sync(path: str):
    with open(path) as f:
        head = f.readline()
    return head


async def first_line(path: str, sink) -> None:
    head = await asyncio.to_thread(_first_line_sync, path)
    await sink.send(head)


def _stats_sync(path: str):
    with open(path) as f:
        text = f.read()
        lines = text.splitlines()
    return text, lines


async def stats(path: str, sink) -> str:
    text, lines = await asyncio.to_thread(_stats_sync, path)
    await sink.send(len(lines))
    return text

import os


async def first_line(path: str, sink) -> None:
    with open(path) as f:
        head = f.readline()
    await sink.send(head)


async def stats(path: str, sink) -> str:
    with open(path) as f:
        text = f.read()
        lines = text.splitlines()
    await sink.send(len(lines))
    return text

import json


async def find(path: str, key: str, events) -> str | None:
    with open(path) as f:
        for line in f:
            if line.startswith(key):
                return line
    await events.emit("miss")
    return None


async def scan(paths: list[str], events) -> None:
    for p in paths:
        with open(p) as f:
            if f.read(1) == "#":
                break
        await events.emit(p)


async def lines(path: str):
    with open(path) as f:
        for line in f:
            yield line


async def upload(path: str, client) -> None:
    with open(path, "rb") as f:
        await client.put(f.read())

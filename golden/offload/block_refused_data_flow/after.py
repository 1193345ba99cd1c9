import json

CACHE = None


async def warm(path: str, events) -> None:
    global CACHE
    with open(path) as f:
        CACHE = json.load(f)
    await events.emit("warm")


async def maybe(path: str, flag: bool, events) -> dict:
    with open(path) as f:
        if flag:
            data = json.load(f)
    await events.emit("maybe")
    return data


async def reader(path: str, events):
    with open(path) as f:
        text = f.read()
        get = lambda: text  # noqa: E731
    await events.emit(get())

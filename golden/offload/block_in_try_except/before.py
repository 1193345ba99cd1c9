import json


async def load_or_empty(path: str, events) -> dict:
    await events.emit("load")
    try:
        with open(path) as f:
            data = json.load(f)
    except FileNotFoundError:
        data = {}
    return data

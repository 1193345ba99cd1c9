import json
import os


async def load_or_default(path: str, events) -> dict:
    await events.emit("load", path)
    if os.path.exists(path):
        with open(path) as f:
            data = json.load(f)
    else:
        data = {}
    return data

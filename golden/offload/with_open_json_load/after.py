import json


async def load_config(path: str) -> dict:
    with open(path) as f:
        data = json.load(f)
    return data


async def append(path: str, line: str) -> None:
    with open(path, "a") as f:
        f.write(line)

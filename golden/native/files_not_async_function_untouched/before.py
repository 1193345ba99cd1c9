import json


def load_at_startup(path: str) -> dict:
    with open(path) as f:
        return json.load(f)


CONFIG = load_at_startup("config.json")


async def handler() -> dict:
    return CONFIG

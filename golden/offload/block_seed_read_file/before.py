import json
from pathlib import Path


async def read_file(path: Path) -> dict:
    with open(path) as f:
        return json.load(f)

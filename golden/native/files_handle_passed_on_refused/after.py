import csv
import json

import aiofiles


async def rows(path: str) -> list[list[str]]:
    with open(path, newline="") as f:
        header = f.readline()
        return [header.split(",")] + list(csv.reader(f))


async def config(path: str) -> dict:
    async with aiofiles.open(path) as f:
        return json.loads(await f.read())

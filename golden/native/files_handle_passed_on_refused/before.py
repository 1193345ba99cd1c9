import csv
import json


async def rows(path: str) -> list[list[str]]:
    with open(path, newline="") as f:
        header = f.readline()
        return [header.split(",")] + list(csv.reader(f))


async def config(path: str) -> dict:
    with open(path) as f:
        return json.load(f)

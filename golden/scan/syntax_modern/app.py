import asyncio
import subprocess
import time

import requests
from fastapi import APIRouter

router = APIRouter()


def retry(times: int):
    def deco(fn):
        return fn

    return deco


def größe(pfad: str) -> int:
    with open(pfad, "rb") as datei:
        return len(datei.read())


async def dispatch(event: dict) -> None:
    match event:
        case {"type": "sleep", "seconds": seconds}:
            time.sleep(seconds)  # expect: AM150
        case {"type": "fetch", "url": str(url)}:
            requests.get(url, timeout=5)  # expect: AM100
        case {"type": "shell", "cmd": [*cmd]}:
            subprocess.run(cmd, check=True)  # expect: AM110
        case _:
            await asyncio.sleep(0)


async def gather_errors(urls: list[str]) -> None:
    try:
        async with asyncio.TaskGroup() as tg:
            for u in urls:
                tg.create_task(asyncio.sleep(0))
    except* ValueError:
        time.sleep(0.1)  # expect: AM150
    except* (TypeError, KeyError):
        requests.post("https://alerts.example.com", json={}, timeout=5)  # expect: AM100


async def walrus(url: str) -> dict:
    if (resp := requests.get(url, timeout=5)).ok:  # expect: AM100
        return resp.json()  # ok: body already read
    while (line := input("> ")) != "quit":  # expect: AM140
        print(line)
    return {}


@retry(times=3)
@router.get("/decorated")
async def decorated() -> None:
    time.sleep(1)  # expect: AM150


class Outer:
    class Inner:
        async def handler(self) -> None:
            time.sleep(1)  # expect: AM150

    async def method(self) -> None:
        await asyncio.sleep(0)  # ok: awaited


async def unicode_lines() -> int:
    données = "é" * 3; time.sleep(1)  # expect: AM150
    print("naïve café ☕"); requests.get("https://exämple.com/ü", timeout=5)  # expect: AM100
    return größe("données.bin")  # expect: AM120 via=größe


async def größe_async() -> None:
    time.sleep(1)  # expect: AM150

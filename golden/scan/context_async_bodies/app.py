import asyncio
import os
import time
from contextlib import asynccontextmanager

import requests
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()
BANNER = open("banner.txt").read()  # ok: module level, runs once at import
time.sleep(0.01)  # ok: module level


def retry(times: int):
    def deco(fn):
        return fn

    return deco


class Settings:
    banner = open("banner.txt").read()  # ok: class body runs at import

    async def reload(self) -> None:
        self.banner = open("banner.txt").read()  # expect: AM120


async def ticker():
    for i in range(3):
        time.sleep(1)  # expect: AM150
        yield f"data: {i}\n\n"


@app.get("/events")
async def events() -> StreamingResponse:
    return StreamingResponse(ticker(), media_type="text/event-stream")  # ok: calling an async generator runs nothing


@asynccontextmanager
async def timed(name: str):
    start = time.perf_counter()
    yield
    time.sleep(0.01)  # expect: AM150


async def bodies(urls: list[str]) -> list[int]:
    async with timed("fetch"):
        first = requests.get(urls[0], timeout=5)  # expect: AM100
    async for event in ticker():
        requests.post("https://hooks.example.com", json={"e": event}, timeout=5)  # expect: AM100
    sizes = [len(requests.get(u, timeout=5).content) for u in urls]  # expect: AM100
    heads = {u: requests.head(u, timeout=5).ok for u in urls}  # expect: AM100
    total = sum(requests.get(u, timeout=5).status_code for u in urls)  # expect: AM100
    while not os.path.exists("/tmp/ready"):  # expect: AM130
        await asyncio.sleep(0.1)
    label = "ok" if first.ok else open("error.txt").read()  # expect: AM120
    return sizes + [total, len(heads), len(label)]


async def deferred(urls: list[str]) -> list[bytes]:
    def fetch_all() -> list[bytes]:
        return [requests.get(u, timeout=5).content for u in urls]  # ok: nested sync def, runs only when called

    callback = lambda: time.sleep(1)  # ok: the lambda body is not executed here
    results = await asyncio.to_thread(fetch_all)  # ok: offloaded
    results += fetch_all()  # expect: AM100 via=fetch_all
    await asyncio.to_thread(callback)  # ok: offloaded
    return results


@retry(times=int(open("retries.txt").read()))  # ok: decorator arguments run at import
async def with_defaults(timeout: float = float(open("timeout.txt").read())) -> None:  # ok: defaults run at import
    await asyncio.sleep(timeout)

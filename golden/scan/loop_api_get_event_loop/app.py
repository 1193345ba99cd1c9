import asyncio
import functools

import requests

loop_at_import = asyncio.get_event_loop()  # ok: module level, not in a coroutine


def fetch(url: str) -> bytes:
    return requests.get(url, timeout=5).content


def current_loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_event_loop()


async def download(url: str) -> bytes:
    loop = asyncio.get_event_loop()  # expect: AM280
    return await loop.run_in_executor(None, fetch, url)  # ok: runs in the default executor


async def download_partial(url: str) -> bytes:
    loop = asyncio.get_running_loop()  # ok: the right API
    response = await loop.run_in_executor(None, functools.partial(requests.get, url, timeout=5))  # ok: passed
    return response.content


async def download_lambda(url: str) -> bytes:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, lambda: requests.get(url, timeout=5).content)  # ok: lambda runs in the executor


async def via_helper() -> None:
    loop = current_loop()  # ok: get_event_loop does not block; AM280 is about code in the coroutine itself
    loop.call_soon(print, "hi")

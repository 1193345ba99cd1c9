import asyncio as aio
from asyncio import get_event_loop


async def first(fn):
    loop = aio.get_event_loop()
    return await loop.run_in_executor(None, fn)


async def second(fn):
    return await get_event_loop().run_in_executor(None, fn, 1, 2)


def sync_caller():
    return get_event_loop()  # not in a coroutine: not touched

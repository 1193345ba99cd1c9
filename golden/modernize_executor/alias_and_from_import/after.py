import asyncio as aio
from asyncio import get_event_loop


async def first(fn):
    return await aio.to_thread(fn)


async def second(fn):
    return await aio.to_thread(fn, 1, 2)


def sync_caller():
    return get_event_loop()  # not in a coroutine: not touched

import asyncio


async def prefetch(keys, load):
    loop = asyncio.get_event_loop()
    future = loop.run_in_executor(None, load, keys)
    started = loop.time()
    rows = await future
    return rows, loop.time() - started

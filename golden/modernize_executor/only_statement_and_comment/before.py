import asyncio


async def remember_loop(state):
    state.loop = asyncio.get_event_loop()


async def commented(fn):
    # the loop of the request
    loop = asyncio.get_event_loop()
    return await loop.run_in_executor(None, fn)

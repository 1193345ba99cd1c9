import asyncio


async def remember_loop(state):
    state.loop = asyncio.get_running_loop()


async def commented(fn):
    # the loop of the request
    return await asyncio.to_thread(fn)

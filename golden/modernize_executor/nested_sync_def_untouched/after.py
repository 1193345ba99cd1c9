import asyncio


async def schedule(callback):
    def later():
        return asyncio.get_event_loop()

    loop = asyncio.get_running_loop()
    loop.call_soon(callback)
    return later

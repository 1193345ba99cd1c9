import asyncio


async def settle() -> None:
    await asyncio.sleep(0.2)


async def handler() -> None:
    await asyncio.sleep(1)
    await settle()
    x = [await settle() for _ in range(2)]

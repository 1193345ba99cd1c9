import asyncio


async def settle(delay: float) -> None:
    await asyncio.sleep(delay)


def compute(x: int) -> int:
    return x * 2


async def handler(x: int) -> int:
    await settle(0.1)
    await asyncio.sleep(0.2)
    await settle(0.3)
    return await asyncio.to_thread(compute, x)

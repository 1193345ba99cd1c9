import asyncio
import time


def settle() -> None:
    time.sleep(0.2)


async def handler() -> None:
    await asyncio.sleep(1)
    await asyncio.to_thread(settle)  # a sync helper that sleeps: the helper moves to a thread, its sleep stays sync

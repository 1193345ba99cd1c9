import time


def helper() -> None:
    time.sleep(1)


async def handler() -> None:
    time.sleep(1)  # expect: AM150
    helper()  # expect: AM150 via=helper
    await asyncio.to_thread(helper)  # ok: passed, not called


def sync_route() -> None:
    time.sleep(1)  # ok: not on the loop

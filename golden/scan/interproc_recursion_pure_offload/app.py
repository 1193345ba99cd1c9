import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

executor = ThreadPoolExecutor(max_workers=4)


def is_even(n: int) -> bool:
    return True if n == 0 else is_odd(n - 1)


def is_odd(n: int) -> bool:
    return False if n == 0 else is_even(n - 1)


def ping(n: int) -> None:
    if n:
        pong(n - 1)


def pong(n: int) -> None:
    time.sleep(0.01)
    ping(n)


def countdown(n: int) -> None:
    if n > 0:
        time.sleep(1)
        countdown(n - 1)


def process(path: str) -> None:
    time.sleep(5)


def start_in_thread(path: str) -> None:
    threading.Thread(target=process, args=(path,), daemon=True).start()


def submit(path: str):
    return executor.submit(process, path)


def schedule(path: str):
    return asyncio.to_thread(process, path)


async def slow_async() -> None:
    time.sleep(1)  # expect: AM150


def make_coroutine():
    return slow_async()


async def handler() -> None:
    is_even(10)  # ok: mutually recursive but pure
    ping(3)  # expect: AM150 via=ping,pong
    pong(3)  # expect: AM150 via=pong
    countdown(3)  # expect: AM150 via=countdown
    start_in_thread("a.csv")  # ok: only hands the work to a thread
    submit("b.csv")  # ok: only submits to an executor
    await schedule("c.csv")  # ok: the sync helper only builds a to_thread coroutine
    await slow_async()  # ok: the finding is inside slow_async
    task = asyncio.create_task(slow_async())  # ok: schedules the coroutine
    await make_coroutine()  # ok: calling an async function from a sync helper runs nothing
    await task

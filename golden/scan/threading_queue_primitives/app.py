import asyncio
import queue
import threading

from fastapi import FastAPI

app = FastAPI()
jobs: queue.Queue[dict] = queue.Queue()
results_lock = threading.Lock()
ready = threading.Event()
worker = threading.Thread(target=print, daemon=True)


@app.get("/next")
async def next_job() -> dict:
    return jobs.get()  # expect: AM250


@app.get("/next/soon")
async def next_job_soon() -> dict | None:
    jobs.put({"id": 1})  # ok: unbounded queue, put never blocks
    try:
        return jobs.get(timeout=0.1)  # ok: bounded wait
    except queue.Empty:
        pass
    try:
        return jobs.get(block=False)  # ok: never blocks
    except queue.Empty:
        return jobs.get_nowait()  # ok: never blocks


@app.post("/critical")
async def critical() -> None:
    results_lock.acquire()  # expect: AM250
    results_lock.release()  # ok: never blocks
    if results_lock.acquire(timeout=1):  # ok: bounded wait
        results_lock.release()
    results_lock.acquire(False)  # ok: non-blocking attempt
    ready.wait()  # expect: AM250
    ready.wait(5)  # ok: bounded wait
    ready.set()  # ok: never blocks
    worker.join()  # expect: AM250
    worker.join(timeout=2)  # ok: bounded wait
    jobs.join()  # expect: AM250
    local = threading.RLock()
    local.acquire(blocking=False)  # ok: non-blocking attempt


@app.post("/async-queue")
async def async_queue() -> int:
    q: asyncio.Queue[int] = asyncio.Queue()
    q.put_nowait(1)
    lock = asyncio.Lock()
    await lock.acquire()  # ok: asyncio lock awaited
    lock.release()
    return await q.get()  # ok: asyncio queue awaited

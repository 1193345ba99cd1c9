import asyncio
import functools
import time

import anyio
import anyio.to_thread
import requests
from asyncer import asyncify
from fastapi import BackgroundTasks, FastAPI
from fastapi.concurrency import run_in_threadpool

app = FastAPI()


def render_report(user_id: int) -> bytes:
    time.sleep(2)
    return b"%d" % user_id


def send_email(to: str) -> None:
    requests.post("https://mail.example.com/send", json={"to": to}, timeout=10)


@app.get("/reports/{user_id}")
async def report(user_id: int, background: BackgroundTasks) -> bytes:
    a = await asyncio.to_thread(render_report, user_id)  # ok: passed, not called
    loop = asyncio.get_running_loop()
    b = await loop.run_in_executor(None, render_report, user_id)  # ok: passed, not called
    c = await loop.run_in_executor(None, lambda: render_report(user_id))  # ok: the lambda runs in the executor
    d = await anyio.to_thread.run_sync(render_report, user_id)  # ok: passed, not called
    e = await run_in_threadpool(render_report, user_id)  # ok: passed, not called
    f = await asyncify(render_report)(user_id)  # ok: asyncify runs it in a worker thread
    await asyncio.to_thread(functools.partial(send_email, "ops@example.com"))  # ok: partial only binds
    background.add_task(send_email, "ops@example.com")  # ok: Starlette runs sync tasks in a threadpool
    await asyncio.to_thread(time.sleep, 1)  # ok: passed, not called
    return a + b + c + d + e + f


@app.get("/reports/{user_id}/bug")
async def report_bug(user_id: int) -> bytes:
    return await asyncio.to_thread(render_report(user_id))  # expect: AM150 via=render_report


@app.post("/notify")
async def notify(to: str) -> None:
    send_email(to)  # expect: AM100 via=send_email
    asyncio.get_running_loop().run_in_executor(None, send_email, to)  # ok: fire and forget in the executor

import asyncio
import os
import shlex
import subprocess

from fastapi import APIRouter

router = APIRouter()


@router.post("/videos/{name}/thumbnail")
async def thumbnail(name: str) -> dict:
    src = shlex.quote(name)  # ok: pure
    subprocess.run(["ffmpeg", "-i", src, "-frames:v", "1", "thumb.png"], check=True)  # expect: AM110
    version = subprocess.check_output(["ffmpeg", "-version"], text=True)  # expect: AM110
    os.system("optipng thumb.png")  # expect: AM110
    return {"version": version.splitlines()[0]}


@router.post("/jobs")
async def start_job() -> dict:
    proc = subprocess.Popen(["python", "worker.py"])  # expect: AM110
    proc.poll()  # ok: non-blocking status check
    code = proc.wait()  # expect: AM110
    return {"pid": proc.pid, "code": code}


@router.post("/jobs/bounded")
async def bounded_job() -> dict:
    proc = subprocess.Popen(["python", "worker.py"], stdout=subprocess.PIPE)  # expect: AM110
    out, _ = proc.communicate()  # expect: AM110
    proc.wait(timeout=5)  # ok: bounded wait
    proc.communicate(timeout=1)  # ok: bounded wait
    proc.kill()  # ok: sends a signal
    with subprocess.Popen(["sleep", "1"]) as child:  # expect: AM110
        child.terminate()  # ok: sends a signal
    return {"out": out.decode()}


@router.post("/jobs/async")
async def async_job() -> dict:
    proc = await asyncio.create_subprocess_exec("python", "worker.py", stdout=asyncio.subprocess.PIPE)  # ok: asyncio
    out, _ = await proc.communicate()  # ok: awaited
    await proc.wait()  # ok: awaited
    return {"out": out.decode(), "pid": os.getpid()}  # ok: os.getpid does not block

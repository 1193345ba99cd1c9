import io
from pathlib import Path
from typing import IO, TextIO

import aiofiles
from fastapi import FastAPI, UploadFile

app = FastAPI()
UPLOADS = Path("/var/uploads")


@app.get("/notes/{name}")
async def read_note(name: str) -> str:
    with open(f"notes/{name}.txt", encoding="utf-8") as f:  # expect: AM120
        return f.read()  # expect: AM121


@app.post("/notes/{name}")
async def write_note(name: str, body: str) -> None:
    with io.open(f"notes/{name}.txt", "w") as f:  # expect: AM120
        f.write(body)  # expect: AM121
        f.flush()  # expect: AM121


@app.post("/uploads")
async def upload(file: UploadFile) -> dict:
    data = await file.read()  # ok: UploadFile.read is async
    path = UPLOADS / file.filename
    with path.open("wb") as out:  # expect: AM120
        out.write(data)  # expect: AM121
    buf = io.BytesIO(data)
    header = buf.read(4)  # ok: in-memory buffer
    return {"size": len(data), "magic": header.hex()}


@app.get("/logs")
async def tail_logs() -> list[str]:
    with open("app.log") as log:  # expect: AM120
        lines = log.readlines()  # expect: AM121
    first = open("app.log").readline()  # expect: AM120
    handle = open("app.log")  # expect: AM120
    second = handle.readline()  # expect: AM121
    return [first, second] + lines


@app.get("/logs/async")
async def tail_logs_async() -> str:
    async with aiofiles.open("app.log") as f:
        return await f.read()  # ok: aiofiles awaited


async def save_chunk(f: IO[bytes], chunk: bytes) -> None:
    f.write(chunk)  # expect: AM121


async def save_text(f: TextIO, text: str) -> None:
    f.writelines([text, "\n"])  # expect: AM121

import glob
import os
import shutil

from fastapi import APIRouter, UploadFile

router = APIRouter()
DATA = "/srv/data"


@router.post("/datasets/{name}")
async def upload_dataset(name: str, file: UploadFile) -> dict:
    folder = os.path.join(DATA, name)  # ok: string manipulation
    os.makedirs(folder, exist_ok=True)  # expect: AM131
    dest = os.path.join(folder, file.filename)  # ok: string manipulation
    with open(dest, "wb") as buffer:  # expect: AM120
        shutil.copyfileobj(file.file, buffer)  # expect: AM131
    return {"files": os.listdir(folder)}  # expect: AM131


@router.delete("/datasets/{name}")
async def delete_dataset(name: str) -> None:
    folder = os.path.join(DATA, name)
    shutil.rmtree(folder, ignore_errors=True)  # expect: AM131
    for old in glob.glob(f"{DATA}/*.tmp"):  # expect: AM131
        os.remove(old)  # expect: AM131


@router.post("/datasets/{name}/archive")
async def archive(name: str) -> dict:
    shutil.make_archive(f"/tmp/{name}", "zip", os.path.join(DATA, name))  # expect: AM131
    os.rename(f"/tmp/{name}.zip", f"{DATA}/{name}.zip")  # expect: AM131
    ffmpeg = shutil.which("ffmpeg")  # expect: AM131
    count = 0
    for root, dirs, files in os.walk(DATA):  # expect: AM131
        count += len(files)
    return {"ffmpeg": ffmpeg, "count": count, "pid": os.getpid(), "cpus": os.cpu_count()}  # ok: no fs access


@router.get("/env")
async def env() -> dict:
    return {"home": os.environ.get("HOME"), "debug": os.getenv("DEBUG", "0"), "sep": os.sep}  # ok: environment only

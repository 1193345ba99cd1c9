import os
import os.path
from pathlib import Path

from fastapi import FastAPI, HTTPException

app = FastAPI()
BASE_DIR = Path(__file__).resolve().parent  # ok: module level runs at import
MEDIA = BASE_DIR / "media"  # ok: module level


class Storage:
    def __init__(self, root: str) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return Path(self.root) / key

    @property
    def index(self) -> Path:
        return Path(self.root) / "index.json"


storage = Storage("/srv/data")


@app.get("/media/{name}")
async def media(name: str) -> dict:
    target = MEDIA / name  # ok: pure join
    if not target.exists():  # expect: AM130
        raise HTTPException(404)
    return {
        "name": target.name,
        "suffix": target.suffix.lower(),  # ok: pure string method
        "plain": target.with_suffix("").name,  # ok: pure
        "relative": str(target.relative_to(MEDIA)),  # ok: pure
        "size": target.stat().st_size,  # expect: AM130
        "text": target.read_text(),  # expect: AM130
        "real": str(target.resolve()),  # expect: AM130
        "templates": (BASE_DIR / "templates").is_dir(),  # expect: AM130
    }


@app.get("/files/{key}")
async def file_info(key: str) -> dict:
    full = os.path.join("/srv/data", key)  # ok: string manipulation
    base = os.path.basename(full)  # ok: string manipulation
    stem, ext = os.path.splitext(base)  # ok: string manipulation
    size = os.path.getsize(full) if os.path.exists(full) else 0  # expect: AM130
    p = storage._path(key)  # ok: builds a Path, no I/O
    data = p.read_bytes() if p.is_file() else b""  # expect: AM130
    storage.index.write_text("{}")  # expect: AM130
    storage._path(key).parent.mkdir(parents=True, exist_ok=True)  # expect: AM130
    home = Path.home() / ".cache"  # ok: no file system access
    return {"stem": stem, "ext": ext, "size": size, "data": len(data), "home": home.name}

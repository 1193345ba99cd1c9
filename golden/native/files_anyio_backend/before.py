import json
import os
import shutil
from pathlib import Path


async def publish(src: Path, dst: str) -> dict:
    if not os.path.exists(dst):
        os.makedirs(dst, exist_ok=True)
    with open(src) as f:
        data = json.load(f)
    size = os.path.getsize(src)
    shutil.copy2(src, dst)
    text = src.read_text()
    with open(os.path.join(dst, "meta.txt"), "w") as out:
        out.write(text)
        out.close()
    return {"data": data, "size": size}

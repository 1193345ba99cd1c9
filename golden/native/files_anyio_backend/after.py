import json
import os
import shutil
from pathlib import Path

import anyio
import anyio.to_thread


async def publish(src: Path, dst: str) -> dict:
    if not await anyio.Path(dst).exists():
        await anyio.Path(dst).mkdir(parents=True, exist_ok=True)
    async with await anyio.open_file(src) as f:
        data = json.loads(await f.read())
    size = (await anyio.Path(src).stat()).st_size
    await anyio.to_thread.run_sync(shutil.copy2, src, dst)
    text = await anyio.Path(src).read_text()
    async with await anyio.open_file(os.path.join(dst, "meta.txt"), "w") as out:
        await out.write(text)
        await out.aclose()
    return {"data": data, "size": size}

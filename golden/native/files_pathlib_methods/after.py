from pathlib import Path

import aiofiles.os
import anyio


async def store(root: Path, name: str, payload: bytes) -> int:
    await aiofiles.os.makedirs(root, exist_ok=True)
    await aiofiles.os.mkdir(root / "tmp")
    target = root / name
    if await aiofiles.os.path.exists(target) and not await aiofiles.os.path.isdir(target):
        await aiofiles.os.unlink(target)
    await anyio.Path(target).write_bytes(payload)
    await anyio.Path(root / "latest").write_text(name, encoding="utf-8")
    return (await aiofiles.os.stat(target)).st_size

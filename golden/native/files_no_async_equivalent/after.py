import asyncio
import os
from pathlib import Path


async def inventory(root: Path) -> list[str]:
    names = [p.name for p in root.iterdir()]
    for dirpath, _dirs, files in os.walk(root):
        names += files
    real = await asyncio.to_thread(os.path.realpath, root)
    return names + [real]

import pickle
from pathlib import Path

import aiofiles


async def roundtrip(path: Path, obj: object) -> object:
    async with aiofiles.open(path, "wb") as f:
        await f.write(pickle.dumps(obj, protocol=4))
    async with aiofiles.open(path, "rb") as f:
        return pickle.loads(await f.read())

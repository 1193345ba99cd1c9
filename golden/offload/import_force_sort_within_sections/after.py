from abc import ABC
import asyncio
import json
from pathlib import Path
import time


class Job(ABC):
    pass


def _wait_for_sync(path: Path) -> dict:
    while not path.exists():
        time.sleep(0.5)
    return json.loads(path.read_text())


async def wait_for(path: Path) -> dict:
    return await asyncio.to_thread(_wait_for_sync, path)

from abc import ABC
import json
from pathlib import Path
import time


class Job(ABC):
    pass


async def wait_for(path: Path) -> dict:
    while not path.exists():
        time.sleep(0.5)
    return json.loads(path.read_text())

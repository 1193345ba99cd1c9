from __future__ import annotations
import os
import sys


async def cleanup(path: str) -> None:
    os.remove(path)
    print("removed", path, file=sys.stderr)

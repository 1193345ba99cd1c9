import sys
import os
import json
import asyncio


async def dump(path: str, data: dict) -> None:
    await asyncio.to_thread(os.makedirs, os.path.dirname(path), exist_ok=True)
    print(json.dumps(data), file=sys.stderr)

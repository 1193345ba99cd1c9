import asyncio
import json
import pickle
import time
import time as t
from time import sleep


async def load_config(path: str) -> dict:
    with open(path) as f:  # expect: AM120
        return json.load(f)  # expect: AM132


async def save_config(path: str, config: dict) -> None:
    with open(path, "w") as f:  # expect: AM120
        json.dump(config, f, indent=2)  # expect: AM132


async def load_model(path: str) -> object:
    with open(path, "rb") as f:  # expect: AM120
        return pickle.load(f)  # expect: AM132


async def parse(body: bytes) -> str:
    data = json.loads(body)  # ok: in memory
    return json.dumps(data, sort_keys=True)  # ok: in memory


async def confirm() -> bool:
    return input("deploy? [y/N] ") == "y"  # expect: AM140


async def backoff(attempt: int) -> float:
    started = time.monotonic()  # ok: clock read
    time.sleep(2 ** attempt)  # expect: AM150
    sleep(0.1)  # expect: AM150
    t.sleep(0.1)  # expect: AM150
    await asyncio.sleep(2 ** attempt)  # ok: yields to the loop
    return time.monotonic() - started + time.time()  # ok: clock reads

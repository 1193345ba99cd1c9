"""Direct blocking calls with positional and keyword arguments."""

import asyncio
import subprocess

import requests


async def fetch(url: str, token: str) -> dict:
    response = await asyncio.to_thread(requests.get, url, headers={"Authorization": token}, timeout=5)
    return {"status": response.status_code}


async def convert(path: str) -> int:
    result = await asyncio.to_thread(subprocess.run, ["ffmpeg", "-i", path, "out.mp4"], check=True, capture_output=True)
    return result.returncode

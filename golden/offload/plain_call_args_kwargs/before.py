"""Direct blocking calls with positional and keyword arguments."""

import subprocess

import requests


async def fetch(url: str, token: str) -> dict:
    response = requests.get(url, headers={"Authorization": token}, timeout=5)
    return {"status": response.status_code}


async def convert(path: str) -> int:
    result = subprocess.run(["ffmpeg", "-i", path, "out.mp4"], check=True, capture_output=True)
    return result.returncode

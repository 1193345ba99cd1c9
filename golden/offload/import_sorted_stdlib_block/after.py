import argparse
import asyncio
import json
import os
from pathlib import Path

import requests

from app.config import settings


def _fetch_sync(url: str, out: Path) -> None:
    body = requests.get(url, timeout=settings.timeout).json()
    os.makedirs(out.parent, exist_ok=True)
    out.write_text(json.dumps(body))
    print(argparse.Namespace(url=url))


async def fetch(url: str, out: Path) -> None:
    await asyncio.to_thread(_fetch_sync, url, out)

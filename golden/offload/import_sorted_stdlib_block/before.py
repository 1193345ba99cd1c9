import argparse
import json
import os
from pathlib import Path

import requests

from app.config import settings


async def fetch(url: str, out: Path) -> None:
    body = requests.get(url, timeout=settings.timeout).json()
    os.makedirs(out.parent, exist_ok=True)
    out.write_text(json.dumps(body))
    print(argparse.Namespace(url=url))

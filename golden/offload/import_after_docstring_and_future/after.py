"""Storage helpers.

The import of asyncio goes after the existing imports, never above the docstring or the future import.
"""

from __future__ import annotations

import asyncio
import os

BASE = "/srv/data"


async def ensure_dir(name: str) -> str:
    path = os.path.join(BASE, name)
    await asyncio.to_thread(os.makedirs, path, exist_ok=True)
    return path

import asyncio
import os

from fastapi import HTTPException


async def ensure(path: str) -> None:
    if not await asyncio.to_thread(os.path.exists, path):
        raise HTTPException(status_code=404)


async def negative_size(path: str) -> int:
    return -await asyncio.to_thread(os.path.getsize, path)

import asyncio
import os


async def handler(paths: list[str]) -> list[bool]:
    async def check(path: str) -> bool:
        return await asyncio.to_thread(os.path.isfile, path)

    return [await check(p) for p in paths]

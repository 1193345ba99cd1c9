import asyncio
import os


async def existing(paths: list[str]) -> list[str]:
    def keep(path: str) -> bool:
        return os.path.exists(path)

    return [p for p in paths if await asyncio.to_thread(keep, p)]

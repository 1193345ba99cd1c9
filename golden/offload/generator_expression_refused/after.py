import asyncio
import os


async def any_missing(paths: list[str]) -> bool:
    return any(not os.path.exists(p) for p in paths)


async def listing(directory: str) -> list[str]:
    # the first iterable of a generator expression runs in the enclosing scope: await is fine there
    return list(name.upper() for name in await asyncio.to_thread(os.listdir, directory))

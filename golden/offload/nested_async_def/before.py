import os


async def handler(paths: list[str]) -> list[bool]:
    async def check(path: str) -> bool:
        return os.path.isfile(path)

    return [await check(p) for p in paths]

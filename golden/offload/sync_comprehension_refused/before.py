import os


async def handler(paths: list[str]):
    def existing() -> list[str]:
        return [p for p in paths if os.path.exists(p)]

    return existing

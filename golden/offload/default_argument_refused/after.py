import os


async def handler(items: list[str]) -> list[str]:
    def pad(item: str, width: int = os.path.getsize("widths.cfg")) -> str:
        return item.ljust(width)

    return [pad(item) for item in items]

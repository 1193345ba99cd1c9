import aiofiles

async def count_words(path: str) -> int:
    total = 0
    async with aiofiles.open(path) as f:
        async for line in f:
            total += len(line.split())
    return total


async def non_empty(path: str) -> list[str]:
    async with aiofiles.open(path) as f:
        return [line.rstrip("\n") async for line in f if line.strip()]

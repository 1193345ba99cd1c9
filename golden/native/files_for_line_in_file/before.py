async def count_words(path: str) -> int:
    total = 0
    with open(path) as f:
        for line in f:
            total += len(line.split())
    return total


async def non_empty(path: str) -> list[str]:
    with open(path) as f:
        return [line.rstrip("\n") for line in f if line.strip()]

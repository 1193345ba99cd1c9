import os


async def total(a: str, b: str) -> int:
    # await binds tighter than any binary operator: no parentheses needed
    return os.path.getsize(a) + os.path.getsize(b)


async def area(path: str) -> int:
    # `await x ** 2` parses as `(await x) ** 2`: the awaited value is the base of the power
    return os.path.getsize(path) ** 2


async def nonempty(path: str) -> bool:
    # comparisons bind looser than await: no parentheses needed
    return os.path.getsize(path) > 0 and os.path.isfile(path)

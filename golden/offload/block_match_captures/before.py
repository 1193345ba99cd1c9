import asyncio
import json


async def by_kind(kind, path):
    await asyncio.sleep(0)
    match kind:
        case "text":
            with open(path) as f:
                data = f.read()
            print(data)
        case {"path": p}:
            # `p` is bound by the pattern: the helper takes it as a parameter
            with open(p) as f:
                data = json.load(f)
            return data


async def parse(path):
    await asyncio.sleep(0)
    with open(path) as f:
        match json.load(f):
            case {"items": [first, *rest]}:
                pass
            case _:
                first, rest = None, []
    # bound in the block (by a pattern or an assignment) on every path: returned by the helper
    return first, rest


async def rebind(path, default):
    await asyncio.sleep(0)
    value = default
    with open(path) as f:
        match json.load(f):
            case {"value": value}:
                pass
    # bound before the block, maybe rebound by the pattern: passed in and returned
    return value


async def partial(path):
    await asyncio.sleep(0)
    with open(path) as f:
        match json.load(f):
            case {"name": str() as name}:
                pass
    # `name` is not bound when no case matches: the block stays
    return name

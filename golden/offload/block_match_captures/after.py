import asyncio
import json


def _by_kind_sync(path):
    with open(path) as f:
        data = f.read()
    return data


def _by_kind_sync_2(p):
    with open(p) as f:
        data = json.load(f)
    return data


async def by_kind(kind, path):
    await asyncio.sleep(0)
    match kind:
        case "text":
            data = await asyncio.to_thread(_by_kind_sync, path)
            print(data)
        case {"path": p}:
            # `p` is bound by the pattern: the helper takes it as a parameter
            data = await asyncio.to_thread(_by_kind_sync_2, p)
            return data


def _parse_sync(path):
    with open(path) as f:
        match json.load(f):
            case {"items": [first, *rest]}:
                pass
            case _:
                first, rest = None, []
    return first, rest


async def parse(path):
    await asyncio.sleep(0)
    first, rest = await asyncio.to_thread(_parse_sync, path)
    # bound in the block (by a pattern or an assignment) on every path: returned by the helper
    return first, rest


def _rebind_sync(path, value):
    with open(path) as f:
        match json.load(f):
            case {"value": value}:
                pass
    return value


async def rebind(path, default):
    await asyncio.sleep(0)
    value = default
    value = await asyncio.to_thread(_rebind_sync, path, value)
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

import functools

from .settings import load_setting


async def handler(key: str) -> str:
    @functools.lru_cache(maxsize=load_setting("cache_size"))
    def lookup(k: str) -> str:
        return k.upper()

    return lookup(key)

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from redis import asyncio as aioredis

cache = aioredis.Redis.from_url("redis://localhost:6379/0", decode_responses=True)


async def bump(key: str) -> int:
    async with cache.pipeline() as pipe:
        pipe.incr(key)
        pipe.expire(key, 60)
        count, _ = await pipe.execute()
    return count


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    await cache.aclose()


app = FastAPI(lifespan=lifespan)


@app.get("/hits/{key}")
async def hits(key: str) -> dict:
    cached = await cache.get(f"hits:{key}")
    return {"count": await bump(key), "cached": cached}

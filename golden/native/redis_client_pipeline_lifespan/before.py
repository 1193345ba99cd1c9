from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis
from fastapi import FastAPI

cache = redis.Redis.from_url("redis://localhost:6379/0", decode_responses=True)


def bump(key: str) -> int:
    with cache.pipeline() as pipe:
        pipe.incr(key)
        pipe.expire(key, 60)
        count, _ = pipe.execute()
    return count


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield


app = FastAPI(lifespan=lifespan)


@app.get("/hits/{key}")
async def hits(key: str) -> dict:
    cached = cache.get(f"hits:{key}")
    return {"count": bump(key), "cached": cached}

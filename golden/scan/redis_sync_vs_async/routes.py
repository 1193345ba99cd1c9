import redis
import redis.asyncio
from fastapi import FastAPI

from cache import REDIS_URL, async_cache, sync_cache

app = FastAPI()
counter = redis.Redis(host="localhost", port=6379, db=1)
rate = redis.from_url(REDIS_URL)


@app.get("/items/{key}")
async def get_item(key: str) -> str | None:
    return sync_cache.get(f"item:{key}")  # expect: AM230


@app.post("/items/{key}")
async def put_item(key: str, value: str) -> None:
    sync_cache.set(f"item:{key}", value, ex=60)  # expect: AM230
    counter.incr("writes")  # expect: AM230
    rate.expire(f"rl:{key}", 10)  # expect: AM230


@app.post("/batch")
async def batch(keys: list[str]) -> list:
    pipe = counter.pipeline()  # ok: pipelines buffer commands locally
    for key in keys:
        pipe.incr(key)  # ok: buffered until execute()
    return pipe.execute()  # expect: AM230


@app.post("/touch/{key}")
async def touch(key: str) -> list:
    with counter.pipeline() as pipe:  # ok: pipelines buffer commands locally
        pipe.incr(key)  # ok: buffered until execute()
        pipe.execute()  # expect: AM230
    return counter.pipeline().incr(key).expire(key, 60).execute()  # expect: AM230


@app.get("/async/{key}")
async def get_async(key: str) -> str | None:
    value = await async_cache.get(key)  # ok: redis.asyncio awaited
    await async_cache.set(key, "x", ex=5)  # ok: redis.asyncio awaited
    client = redis.asyncio.Redis(host="localhost")  # ok: async client
    await client.ping()  # ok: awaited
    apipe = client.pipeline()  # ok: local buffer
    await apipe.execute()  # ok: awaited
    return value


@app.post("/jobs/lock")
async def with_lock() -> None:
    lock = counter.lock("jobs", timeout=30)  # ok: creating a lock object sends nothing
    lock.acquire()  # expect: AM230
    ps = counter.pubsub()  # ok: no command yet
    ps.subscribe("events")  # expect: AM230

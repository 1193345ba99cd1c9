import redis
import redis.asyncio as aioredis

REDIS_URL = "redis://localhost:6379/0"
sync_cache = redis.Redis.from_url(REDIS_URL, decode_responses=True)
async_cache = aioredis.from_url(REDIS_URL, decode_responses=True)

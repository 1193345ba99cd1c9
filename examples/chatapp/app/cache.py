"""Redis-backed reply cache and counters."""

from __future__ import annotations

import hashlib

import redis

from app.config import settings

redis_client = redis.Redis.from_url(settings.redis_url, decode_responses=True, socket_timeout=5)

REPLY_TTL_SECONDS = 3600


def reply_cache_key(prompt: str) -> str:
    return "chat:reply:" + hashlib.sha256(prompt.encode()).hexdigest()


def get_cached(key: str) -> str | None:
    return redis_client.get(key)


def set_cached(key: str, value: str, ttl: int = REPLY_TTL_SECONDS) -> None:
    redis_client.set(key, value, ex=ttl)

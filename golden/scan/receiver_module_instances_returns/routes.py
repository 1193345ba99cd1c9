import clients
from clients import cache, get_cache, http, make_http, new_s3


async def lookups(key: str) -> dict:
    value = cache.get(key)  # expect: AM230
    fields = clients.cache.hgetall(key)  # expect: AM230
    ttl = get_cache().ttl(key)  # expect: AM230
    page = make_http().get("https://example.com", timeout=5)  # expect: AM100
    buckets = new_s3().list_buckets()  # expect: AM220
    other = http.get("https://example.com/other", timeout=5)  # expect: AM100
    client = get_cache()  # ok: returns the module-level client, no I/O
    client.lpush("log", key)  # expect: AM230
    return {"v": value, "f": fields, "t": ttl, "p": page.text, "b": buckets, "o": other.text}

import requests
from sqlalchemy.ext.asyncio import AsyncSession

from vendor import get_db, get_redis, make_s3

db = get_db()
r = get_redis()
s3 = make_s3()
cache: dict[str, str] = {}
settings = {"debug": "1"}


async def handler(key: str) -> None:
    db.execute("update t set x = 1")  # expect: AM200
    r.get(key)  # expect: AM230
    s3.put_object(Bucket="b", Key=key, Body=b"")  # expect: AM220
    cache.get(key)  # ok: a dict literal, not a redis client
    settings.get("debug")  # ok: no hint for this name
    await db.execute("select 1")  # ok: awaited


async def untyped_params(session, cursor, key: str) -> None:
    session.commit()  # expect: AM200
    cursor.fetchall()  # expect: AM210
    session.add(key)  # ok: add is not a blocking method


async def typed_wins(key: str) -> None:
    session = requests.Session()
    session.get("https://example.com", timeout=5)  # expect: AM100


async def typed_async(session: AsyncSession) -> None:
    session.expire_all()  # ok: typed AsyncSession, no hint applies
    await session.commit()  # ok: awaited

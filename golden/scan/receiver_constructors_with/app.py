import boto3
import redis
from sqlalchemy import text
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Field, Session, SQLModel, create_engine, select

engine = create_engine("sqlite:///app.db")


class Item(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str


async def with_session() -> list[Item]:
    with Session(engine) as s:
        return s.exec(select(Item)).all()  # expect: AM200


async def with_aliased_orm_session() -> None:
    with OrmSession(engine) as db:
        db.execute(text("delete from items"))  # expect: AM200


async def plain_constructor() -> None:
    session = Session(engine)  # ok: no connection until the first query
    session.exec(select(Item)).first()  # expect: AM200
    session.close()  # expect: AM200


async def constructed_clients(key: str) -> bytes:
    s3 = boto3.client("s3")  # ok: building a client makes no request
    r = redis.Redis.from_url("redis://localhost")  # ok: no connection yet
    r.setex(key, 60, "1")  # expect: AM230
    return s3.get_object(Bucket="b", Key=key)["Body"].read()  # expect: AM220


async def walrus_receiver(key: str) -> None:
    if (cache := redis.from_url("redis://localhost")) is not None:
        cache.delete(key)  # expect: AM230


async def chained_constructor(key: str) -> None:
    redis.Redis(host="localhost").hset("h", key, 1)  # expect: AM230
    Session(engine).get(Item, 1)  # expect: AM200

from fastapi import FastAPI, Request
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlmodel import Field, SQLModel

from sessions import Session, Storage
from vendor import make_connection

app = FastAPI()
async_engine = create_async_engine("postgresql+asyncpg://app@db/app")
AsyncSessionLocal = async_sessionmaker(async_engine, expire_on_commit=False)
cache: dict[str, bytes] = {}
defaults = {"page": 1}
storage = Storage()


class Item(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str


@app.get("/items/{key}")
async def item(key: str, request: Request) -> dict:
    hit = cache.get(key)  # ok: plain dict
    page = defaults.get("page", 1)  # ok: dict literal
    agent = request.headers.get("user-agent")  # ok: headers mapping
    q = request.query_params.get("q")  # ok: query mapping
    conn = make_connection()
    conn.execute("select 1")  # ok: unknown receiver (reported only with --include-uncertain)
    blob = storage.open(key)  # ok: project method named open
    login = Session()
    login.get("user")  # ok: project class named Session
    login.execute("logout")  # ok: project class named Session
    return {"hit": hit, "page": page, "agent": agent, "q": q, "blob": blob}


@app.get("/items")
async def items() -> list:
    async with AsyncSessionLocal() as session:
        result = await session.execute(select(Item))  # ok: AsyncSession awaited
        rows = result.scalars().all()  # ok: result of an awaited query is buffered
        session.add(Item(name="x"))  # ok: add only stages the object
        await session.commit()  # ok: awaited
        one = await session.get(Item, 1)  # ok: awaited
    async with async_engine.connect() as aconn:
        await aconn.execute(text("select 1"))  # ok: AsyncConnection awaited
    return rows + [one]


async def typed_async(session: AsyncSession) -> list:
    return (await session.scalars(select(Item))).all()  # ok: awaited, buffered

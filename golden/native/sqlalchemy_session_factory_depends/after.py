from typing import Annotated

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from fastapi import Depends, FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

engine = create_async_engine("sqlite+aiosqlite:///app.db")
SessionLocal = async_sessionmaker(bind=engine, expire_on_commit=False)


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "item"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


async def get_session() -> AsyncIterator[AsyncSession]:
    async with SessionLocal() as db:
        yield db


get_db = asynccontextmanager(get_session)


@asynccontextmanager
async def session_scope() -> AsyncIterator[AsyncSession]:
    db = SessionLocal()
    try:
        yield db
    finally:
        await db.close()


app = FastAPI()


async def item_names() -> list[str]:
    async with get_db() as db:
        return list((await db.scalars(select(Item.name))).all())


async def add_item(name: str) -> None:
    async with session_scope() as db:
        db.add(Item(name=name))
        await db.commit()


@app.get("/items")
async def items(db: Annotated[AsyncSession, Depends(get_session)]) -> list[str]:
    return list((await db.scalars(select(Item.name))).all())


@app.get("/names")
async def names() -> list[str]:
    return await item_names()


@app.post("/items")
async def create(name: str) -> None:
    await add_item(name)

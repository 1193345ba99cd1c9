from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

engine = create_async_engine("sqlite+aiosqlite:///./app.db")
metadata = MetaData()


async def init_db() -> None:
    async with engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)  # tables of every model


@asynccontextmanager
async def lifespan(app: FastAPI):
    await init_db()
    conn = "name taken"
    async with engine.begin() as conn1:
        await conn1.run_sync(metadata.create_all, checkfirst=True)
    yield
    async with engine.begin() as conn1:
        await conn1.run_sync(SQLModel.metadata.drop_all)

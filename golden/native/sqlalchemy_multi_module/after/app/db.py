"""Database engine and the per-request session dependency."""

from __future__ import annotations

from typing import Annotated

from collections.abc import AsyncIterator
from fastapi import Depends
from sqlalchemy.engine import URL
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from app.config import settings


def _async_database_url(url: str | URL) -> URL:
    """``url`` with its sync driver swapped for the asyncio one (added by asgi-migrate)."""
    url = make_url(url)
    drivers = {
        "sqlite": "sqlite+aiosqlite",
        "sqlite+pysqlite": "sqlite+aiosqlite",
        "postgresql": "postgresql+asyncpg",
        "postgresql+psycopg2": "postgresql+asyncpg",
        "mysql": "mysql+aiomysql",
        "mysql+pymysql": "mysql+aiomysql",
        "mysql+mysqldb": "mysql+aiomysql",
    }
    return url.set(drivername=drivers.get(url.drivername, url.drivername))


connect_args = {"check_same_thread": False} if settings.database_url.startswith("sqlite") else {}
engine = create_async_engine(_async_database_url(settings.database_url), connect_args=connect_args)


async def get_session() -> AsyncIterator[AsyncSession]:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def init_db() -> None:
    async with engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)

"""Engine from the environment."""

import os

from sqlalchemy.engine import URL
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession


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


DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://app@localhost/app")
engine = create_async_engine(_async_database_url(DATABASE_URL), pool_size=10)


async def ping() -> None:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        await session.commit()

from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

engine = create_async_engine(
    "sqlite+aiosqlite:///./app.db",
    echo=True,
    connect_args={"check_same_thread": False},
)
reporting = create_async_engine('postgresql+asyncpg://report@db/reports', pool_pre_ping=True)


async def ping() -> None:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        await session.commit()

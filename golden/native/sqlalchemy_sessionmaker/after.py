from collections.abc import AsyncGenerator
from fastapi import Depends, FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine

from .models import User

engine = create_async_engine("postgresql+asyncpg://app@db/app")
SessionLocal = async_sessionmaker(bind=engine, autoflush=False, expire_on_commit=False)
ReadOnly = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)

app = FastAPI()


async def get_db() -> AsyncGenerator[AsyncSession, None]:
    db = SessionLocal()
    try:
        yield db
    finally:
        await db.close()


@app.get("/users")
async def users(db: AsyncSession = Depends(get_db)) -> list[str]:
    return [u.name for u in (await db.scalars(select(User))).all()]


async def rename(user_id: int, name: str) -> None:
    async with SessionLocal() as session:
        user = await session.get(User, user_id)
        user.name = name
        await session.commit()


async def audit() -> None:
    async with SessionLocal.begin() as session:
        session.add(User(name="audit"))

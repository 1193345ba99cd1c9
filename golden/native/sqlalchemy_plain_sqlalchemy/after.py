import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import create_async_engine

from .models import Base, User

engine = create_async_engine("sqlite+aiosqlite:///./users.db")


async def setup() -> None:
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)


async def add_user(db: AsyncSession, name: str) -> int:
    user = User(name=name)
    db.add(user)
    await db.commit()
    return user.id


async def newest() -> User | None:
    async with AsyncSession(engine, expire_on_commit=False) as db:
        return (await db.scalars(sa.select(User).order_by(User.id.desc()))).first()

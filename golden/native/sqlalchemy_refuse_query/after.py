
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import User


async def find(session: AsyncSession, name: str) -> User | None:
    return (await session.execute(select(User).filter_by(name=name).limit(1))).scalars().first()


async def page(session: AsyncSession, name: str | None, limit: int) -> list[User]:
    await session.commit()
    query = session.query(User)
    if name:
        query = query.filter(User.name == name)
    return query.limit(limit).all()

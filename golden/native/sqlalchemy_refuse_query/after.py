
from sqlalchemy.ext.asyncio import AsyncSession

from .models import User


async def find(session: AsyncSession, name: str) -> User | None:
    return session.query(User).filter_by(name=name).first()


async def count(session: AsyncSession) -> int:
    await session.commit()
    return session.query(User).count()

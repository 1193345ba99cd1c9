from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from .db import engine
from .models import Item


async def items() -> list[Item]:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        return (await session.exec(select(Item))).all()

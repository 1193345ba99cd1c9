from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import Session, select
from sqlmodel.ext.asyncio.session import AsyncSession

from .models import Item

engine = create_async_engine("sqlite+aiosqlite:///./app.db")
REPORTS = []


def count_items() -> int:
    with Session(engine) as session:
        return len(session.exec(select(Item)).all())


REPORTS.append(count_items)  # called synchronously by a scheduler: stays sync


async def list_items() -> list[Item]:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        return (await session.exec(select(Item))).all()

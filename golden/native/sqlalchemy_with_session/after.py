from contextlib import suppress

from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from .models import Item

engine = create_async_engine("sqlite+aiosqlite:///./items.db")


async def count_items() -> int:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        return len((await session.exec(select(Item))).all())


async def add_item(name: str) -> Item:
    async with AsyncSession(engine, autoflush=False, expire_on_commit=False) as session:
        item = Item(name=name)
        session.add(item)
        await session.commit()
        await session.refresh(item)
        return item


async def import_items(rows: list[dict[str, str]]) -> None:
    # a sync context manager next to the session: the `with` is split in two
    async with AsyncSession(engine, expire_on_commit=False) as session:
        with suppress(KeyError):
            for row in rows:
                session.add(Item(**row))
            await session.commit()


async def begin_block() -> None:
    async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
        session.add(Item(name="in a transaction"))

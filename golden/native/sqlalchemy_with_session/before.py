from contextlib import suppress

from sqlmodel import Session, create_engine, select

from .models import Item

engine = create_engine("sqlite:///./items.db")


async def count_items() -> int:
    with Session(engine) as session:
        return len(session.exec(select(Item)).all())


async def add_item(name: str) -> Item:
    with Session(engine, autoflush=False) as session:
        item = Item(name=name)
        session.add(item)
        session.commit()
        session.refresh(item)
        return item


async def import_items(rows: list[dict[str, str]]) -> None:
    # a sync context manager next to the session: the `with` is split in two
    with Session(engine) as session, suppress(KeyError):
        for row in rows:
            session.add(Item(**row))
        session.commit()


async def begin_block() -> None:
    with Session(engine) as session, session.begin():
        session.add(Item(name="in a transaction"))

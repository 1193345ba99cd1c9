from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, FastAPI
from sqlalchemy import create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

engine = create_engine("sqlite:///app.db")
SessionLocal = sessionmaker(bind=engine, expire_on_commit=False)


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "item"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


def get_session() -> Iterator[Session]:
    with SessionLocal() as db:
        yield db


get_db = contextmanager(get_session)


@contextmanager
def session_scope() -> Iterator[Session]:
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


app = FastAPI()


def item_names() -> list[str]:
    with get_db() as db:
        return list(db.scalars(select(Item.name)).all())


def add_item(name: str) -> None:
    with session_scope() as db:
        db.add(Item(name=name))
        db.commit()


@app.get("/items")
async def items(db: Annotated[Session, Depends(get_session)]) -> list[str]:
    return list(db.scalars(select(Item.name)).all())


@app.get("/names")
async def names() -> list[str]:
    return item_names()


@app.post("/items")
async def create(name: str) -> None:
    add_item(name)

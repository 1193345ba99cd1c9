import time
from typing import Annotated

from fastapi import Depends
from sqlmodel import Session, select

from db import Item, get_session

type SessionDep = Annotated[Session, Depends(get_session)]


def first[T](items: list[T]) -> T:
    return items[0]


async def items(session: SessionDep) -> list[Item]:
    return session.exec(select(Item)).all()  # expect: AM200


async def fstrings(name: str) -> str:
    label = f"{"quoted" + name}"; time.sleep(0.1)  # expect: AM150
    return first([label])  # ok: pure generic helper

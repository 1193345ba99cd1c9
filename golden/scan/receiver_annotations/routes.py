from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Optional, Union

from fastapi import Depends, Request
from sqlmodel import select

from db import Item, get_session

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlmodel import Session


async def by_optional(session: Optional[Session], item_id: int) -> Item | None:
    if session is None:
        return None
    return session.get(Item, item_id)  # expect: AM200


async def by_optional_string(session: Optional["Session"]) -> None:
    session.flush()  # expect: AM200


async def by_pipe_union(session: Session | None = None) -> list[Item]:
    assert session is not None
    return session.exec(select(Item)).all()  # expect: AM200


async def by_union(session: Union[Session, None]) -> None:
    session.commit()  # expect: AM200


async def by_string(session: "Session") -> None:
    session.rollback()  # expect: AM200


async def by_annotated(session: Annotated[Session, Depends(get_session)]) -> int:
    return len(session.exec(select(Item)).all())  # expect: AM200


async def by_local_annotation(request: Request) -> None:
    session: Session = request.state.db
    session.merge(Item(name="x"))  # expect: AM200


async def by_async_session(session: "AsyncSession") -> None:
    session.add(Item(name="x"))  # ok: add only stages the object
    await session.commit()  # ok: AsyncSession awaited
    rows = (await session.execute(select(Item))).scalars().all()  # ok: awaited, result is buffered

"""Database engine and the per-request session dependency."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from collections.abc import AsyncIterator
from fastapi import Depends, FastAPI
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import Session, select
from sqlmodel.ext.asyncio.session import AsyncSession

from .models import Hero

engine = create_async_engine("sqlite+aiosqlite:///heroes.db")


async def get_session() -> AsyncIterator[AsyncSession]:
    """Yield a session for the duration of one request."""
    async with AsyncSession(engine, expire_on_commit=False) as session:
        try:
            yield session
            await session.commit()
        except Exception:
            await session.rollback()
            raise


def get_admin_session() -> Iterator[Session]:
    with Session(engine) as session:
        yield session


def debug_session() -> Session:
    return next(get_admin_session())  # called directly: left alone


SessionDep = Annotated[AsyncSession, Depends(get_session)]
app = FastAPI()


@app.get("/heroes")
async def heroes(session: SessionDep) -> list[Hero]:
    return (await session.exec(select(Hero))).all()

"""Database engine and the per-request session dependency."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, FastAPI
from sqlmodel import Session, create_engine, select

from .models import Hero

engine = create_engine("sqlite:///heroes.db")


def get_session() -> Iterator[Session]:
    """Yield a session for the duration of one request."""
    with Session(engine) as session:
        try:
            yield session
            session.commit()
        except Exception:
            session.rollback()
            raise


def get_admin_session() -> Iterator[Session]:
    with Session(engine) as session:
        yield session


def debug_session() -> Session:
    return next(get_admin_session())  # called directly: left alone


SessionDep = Annotated[Session, Depends(get_session)]
app = FastAPI()


@app.get("/heroes")
async def heroes(session: SessionDep) -> list[Hero]:
    return session.exec(select(Hero)).all()

"""Database engine and the per-request session dependency."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from sqlmodel import Session, SQLModel, create_engine

from app.config import settings

# SQLite connections are created on one thread and may be closed on another.
connect_args = {"check_same_thread": False} if settings.database_url.startswith("sqlite") else {}
engine = create_engine(settings.database_url, connect_args=connect_args)


def get_session() -> Iterator[Session]:
    """Yield a session for the duration of one request."""
    with Session(engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def init_db() -> None:
    """Create the tables if they do not exist yet."""
    from app import models  # noqa: F401  (registers the tables on the metadata)

    SQLModel.metadata.create_all(engine)

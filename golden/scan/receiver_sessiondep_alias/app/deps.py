from typing import Annotated, TypeAlias

from fastapi import Depends, Header, HTTPException
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Session

from app.db import get_async_session, get_session
from app.models import User

SessionDep = Annotated[Session, Depends(get_session)]
ReadSession: TypeAlias = Annotated[Session, Depends(get_session)]
AsyncSessionDep = Annotated[AsyncSession, Depends(get_async_session)]
TokenDep = Annotated[str, Header()]


async def get_current_user(session: SessionDep, token: TokenDep) -> User:
    user = session.get(User, int(token))  # expect: AM200
    if not user:
        raise HTTPException(status_code=401, detail="Invalid token")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]

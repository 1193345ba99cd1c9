from fastapi import Depends, FastAPI
from sqlalchemy import or_
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from .db import get_db
from .models import ApiKey, User

app = FastAPI()


@app.get("/users/{user_id}")
async def read_user(user_id: int, db: AsyncSession = Depends(get_db)):
    user = (await db.execute(select(User).filter(User.id == user_id).limit(1))).scalars().first()
    return user.name if user else None


@app.get("/users/by-email/{email}")
async def by_email(email: str, db: AsyncSession = Depends(get_db)):
    return (await db.execute(select(User).filter_by(email=email))).scalars().one_or_none()


@app.get("/users")
async def list_users(db: AsyncSession = Depends(get_db)):
    return (await db.execute(select(User).order_by(User.created_at.desc()).offset(10).limit(20))).scalars().all()


@app.get("/users/by-key/{key}")
async def by_api_key(key: str, db: AsyncSession = Depends(get_db)):
    # the join may repeat a user: Query returned each one once
    return (
        (await db.execute(select(User)
        .join(ApiKey, User.id == ApiKey.user_id)
        .filter(ApiKey.key == key))).scalars().unique().all()
    )


@app.get("/users/{user_id}/keys")
async def with_keys(user_id: int, db: AsyncSession = Depends(get_db)):
    eager = (await db.execute(select(User).options(joinedload(User.api_keys)).filter_by(id=user_id))).scalars().unique().one()
    lazy = (await db.execute(select(User).options(selectinload(User.api_keys)))).scalars().all()
    return eager, lazy


@app.get("/names")
async def names(db: AsyncSession = Depends(get_db)):
    rows = (await db.execute(select(User.id, User.name).filter(or_(User.active, User.admin)))).all()
    return {row.id: row.name for row in rows}


@app.get("/stats")
async def stats(db: AsyncSession = Depends(get_db)) -> dict:
    return {
        "users": (await db.execute(select(func.count()).select_from(select(User).subquery()))).scalar_one(),
        "active": (await db.execute(select(func.count()).select_from(select(User).filter(User.active).subquery()))).scalar_one(),
        "newest": (await db.execute(select(User.name).order_by(User.created_at.desc()).limit(1))).scalar_one_or_none(),
        "first": await db.get(User, 1),
    }

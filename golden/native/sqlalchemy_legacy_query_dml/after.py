import time

from sqlalchemy import delete
from sqlalchemy import update as sa_update
from sqlalchemy.ext.asyncio import AsyncSession

from .models import ApiKey, User


async def rename(db: AsyncSession, user_id: str, name: str) -> bool:
    await db.execute(sa_update(User).filter_by(id=user_id).values({"name": name}))
    await db.commit()
    return True


async def touch(db: AsyncSession, user_id: str, update: dict) -> int:
    changed = (await db.execute(sa_update(User).filter(User.id == user_id).values({**update, "updated_at": int(time.time())}), execution_options={"synchronize_session": False})).rowcount
    await db.commit()
    return changed


async def revoke(db: AsyncSession, user_id: str) -> int:
    await db.execute(delete(ApiKey).filter_by(user_id=user_id))
    removed = (await db.execute(delete(User).filter(User.id == user_id), execution_options={"synchronize_session": "fetch"})).rowcount
    await db.commit()
    return removed

import time

from sqlalchemy.orm import Session

from .models import ApiKey, User


async def rename(db: Session, user_id: str, name: str) -> bool:
    db.query(User).filter_by(id=user_id).update({"name": name})
    db.commit()
    return True


async def touch(db: Session, user_id: str, update: dict) -> int:
    changed = db.query(User).filter(User.id == user_id).update(
        {**update, "updated_at": int(time.time())}, synchronize_session=False
    )
    db.commit()
    return changed


async def revoke(db: Session, user_id: str) -> int:
    db.query(ApiKey).filter_by(user_id=user_id).delete()
    removed = db.query(User).filter(User.id == user_id).delete(synchronize_session="fetch")
    db.commit()
    return removed

from sqlalchemy.orm import Session

from .models import Chat, User


async def search(db: Session, name: str | None, limit: int) -> list[User]:
    query = db.query(User)
    if name:
        query = query.filter(User.name.ilike(f"%{name}%"))
    return query.limit(limit).all()


async def export(db: Session) -> list[str]:
    out = []
    for user in db.query(User).filter(User.active):
        out.append(user.name)
    return out


async def ids(db: Session) -> list[int]:
    return [row.id for row in db.query(User).with_entities(User.id).all()]


async def batches(db: Session) -> int:
    return sum(1 for _ in db.query(Chat).yield_per(100).all())


async def generic(db: Session, model: type) -> list:
    return db.query(model).all()


async def archived(db: Session, user_id: str) -> int:
    return db.query(Chat).join(User).filter(User.id == user_id).delete()


async def by_pk(db: Session, chat_id: str) -> Chat | None:
    return db.query(Chat).filter(Chat.archived).get(chat_id)

from sqlalchemy.orm import Session

from .models import User


async def find(session: Session, name: str) -> User | None:
    return session.query(User).filter_by(name=name).first()


async def page(session: Session, name: str | None, limit: int) -> list[User]:
    session.commit()
    query = session.query(User)
    if name:
        query = query.filter(User.name == name)
    return query.limit(limit).all()

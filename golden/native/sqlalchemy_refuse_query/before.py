from sqlalchemy.orm import Session

from .models import User


async def find(session: Session, name: str) -> User | None:
    return session.query(User).filter_by(name=name).first()


async def count(session: Session) -> int:
    session.commit()
    return session.query(User).count()

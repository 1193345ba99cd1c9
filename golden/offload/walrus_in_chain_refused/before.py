from sqlmodel import Session, select

from .models import User


async def active_users(session: Session) -> list[User]:
    users = session.exec(query := select(User).where(User.active)).all()
    print(query)
    return users

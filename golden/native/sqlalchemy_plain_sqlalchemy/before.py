import sqlalchemy as sa
from sqlalchemy.orm import Session as OrmSession

from .models import Base, User

engine = sa.create_engine("sqlite:///./users.db")


async def setup() -> None:
    Base.metadata.create_all(engine)


async def add_user(db: OrmSession, name: str) -> int:
    user = User(name=name)
    db.add(user)
    db.commit()
    return user.id


async def newest() -> User | None:
    with OrmSession(engine) as db:
        return db.scalars(sa.select(User).order_by(User.id.desc())).first()

from collections.abc import Generator

from fastapi import Depends, FastAPI
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session, sessionmaker

from .models import User

engine = create_engine("postgresql://app@db/app")
SessionLocal = sessionmaker(bind=engine, autoflush=False)
ReadOnly = sessionmaker(engine, class_=Session, expire_on_commit=False)

app = FastAPI()


def get_db() -> Generator[Session, None, None]:
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


@app.get("/users")
async def users(db: Session = Depends(get_db)) -> list[str]:
    return [u.name for u in db.scalars(select(User)).all()]


async def rename(user_id: int, name: str) -> None:
    with SessionLocal() as session:
        user = session.get(User, user_id)
        user.name = name
        session.commit()


async def audit() -> None:
    with SessionLocal.begin() as session:
        session.add(User(name="audit"))

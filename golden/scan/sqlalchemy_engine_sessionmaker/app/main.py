from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import text
from sqlmodel import SQLModel

from app.database import ScopedSession, SessionLocal, engine
from app.models import Base, User

Base.metadata.create_all(bind=engine)  # ok: module level, runs at import


@asynccontextmanager
async def lifespan(app: FastAPI):
    SQLModel.metadata.create_all(engine)  # expect: AM200
    Base.metadata.create_all(bind=engine)  # expect: AM200
    yield
    engine.dispose()  # expect: AM200


app = FastAPI(lifespan=lifespan)


@app.get("/health")
async def health() -> dict:
    with engine.connect() as conn:  # expect: AM200
        conn.execute(text("select 1"))  # expect: AM200
    with engine.begin() as conn:  # expect: AM200
        conn.execute(text("update stats set hits = hits + 1"))  # expect: AM200
    return {"ok": True}


@app.get("/users/{user_id}")
async def get_user(user_id: int) -> dict:
    db = SessionLocal()  # ok: creating a session opens no connection
    try:
        user = db.query(User).filter(User.id == user_id).first()  # expect: AM200
        return {"name": user.name}
    finally:
        db.close()  # expect: AM200


@app.post("/users")
async def create_user(name: str) -> None:
    with SessionLocal.begin() as db:  # expect: AM200
        db.add(User(name=name))  # ok: add only stages the object
        db.flush()  # expect: AM200


@app.get("/users")
async def list_users() -> list[str]:
    rows = ScopedSession.execute(text("select name from users")).all()  # expect: AM200
    session = ScopedSession()  # ok: returns the thread's session, no I/O
    session.commit()  # expect: AM200
    return [r.name for r in rows]

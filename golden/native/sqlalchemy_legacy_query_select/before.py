from fastapi import Depends, FastAPI
from sqlalchemy import or_
from sqlalchemy.orm import Session, joinedload, selectinload

from .db import get_db
from .models import ApiKey, User

app = FastAPI()


@app.get("/users/{user_id}")
async def read_user(user_id: int, db: Session = Depends(get_db)):
    user = db.query(User).filter(User.id == user_id).first()
    return user.name if user else None


@app.get("/users/by-email/{email}")
async def by_email(email: str, db: Session = Depends(get_db)):
    return db.query(User).filter_by(email=email).one_or_none()


@app.get("/users")
async def list_users(db: Session = Depends(get_db)):
    return db.query(User).order_by(User.created_at.desc()).offset(10).limit(20).all()


@app.get("/users/by-key/{key}")
async def by_api_key(key: str, db: Session = Depends(get_db)):
    # the join may repeat a user: Query returned each one once
    return (
        db.query(User)
        .join(ApiKey, User.id == ApiKey.user_id)
        .filter(ApiKey.key == key)
        .all()
    )


@app.get("/users/{user_id}/keys")
async def with_keys(user_id: int, db: Session = Depends(get_db)):
    eager = db.query(User).options(joinedload(User.api_keys)).filter_by(id=user_id).one()
    lazy = db.query(User).options(selectinload(User.api_keys)).all()
    return eager, lazy


@app.get("/names")
async def names(db: Session = Depends(get_db)):
    rows = db.query(User.id, User.name).filter(or_(User.active, User.admin)).all()
    return {row.id: row.name for row in rows}


@app.get("/stats")
async def stats(db: Session = Depends(get_db)) -> dict:
    return {
        "users": db.query(User).count(),
        "active": db.query(User).filter(User.active).count(),
        "newest": db.query(User.name).order_by(User.created_at.desc()).limit(1).scalar(),
        "first": db.query(User).get(1),
    }

from fastapi import FastAPI
from sqlalchemy import text

from .db import Session, get_db

app = FastAPI()


@app.get("/ping")
async def ping() -> int:
    with get_db() as db:
        return db.execute(text("SELECT 1")).scalar_one()


@app.get("/health")
async def health() -> bool:
    Session.execute(text("SELECT 1"))
    return True

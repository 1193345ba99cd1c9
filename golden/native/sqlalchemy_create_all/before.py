from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import MetaData, create_engine
from sqlmodel import SQLModel

engine = create_engine("sqlite:///./app.db")
metadata = MetaData()


def init_db() -> None:
    SQLModel.metadata.create_all(engine)  # tables of every model


@asynccontextmanager
async def lifespan(app: FastAPI):
    init_db()
    conn = "name taken"
    metadata.create_all(bind=engine, checkfirst=True)
    yield
    SQLModel.metadata.drop_all(engine)

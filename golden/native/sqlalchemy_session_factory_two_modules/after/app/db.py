from contextlib import asynccontextmanager
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import declarative_base, scoped_session

engine = create_async_engine("sqlite+aiosqlite:///app.db")
SessionLocal = async_sessionmaker(autocommit=False, autoflush=False, bind=engine, expire_on_commit=False)
Base = declarative_base()
Session = scoped_session(SessionLocal)


async def get_session():
    db = SessionLocal()
    try:
        yield db
    finally:
        await db.close()


get_db = asynccontextmanager(get_session)

from contextlib import contextmanager

from sqlalchemy import create_engine
from sqlalchemy.orm import scoped_session, sessionmaker

engine = create_engine("sqlite:///app.db")
SessionLocal = sessionmaker(bind=engine, expire_on_commit=False)
Session = scoped_session(SessionLocal)


@contextmanager
def get_db():
    with SessionLocal() as db:
        yield db

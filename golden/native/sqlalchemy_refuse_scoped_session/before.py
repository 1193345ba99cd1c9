from sqlalchemy import create_engine
from sqlalchemy.orm import scoped_session, sessionmaker

engine = create_engine("sqlite:///./app.db")
Session = scoped_session(sessionmaker(bind=engine))


async def save(obj: object) -> None:
    Session.add(obj)
    Session.commit()

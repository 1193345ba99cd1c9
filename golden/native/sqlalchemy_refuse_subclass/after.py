from sqlalchemy import create_engine
from sqlalchemy.orm import Session

engine = create_engine("sqlite:///./app.db")


class AuditedSession(Session):
    def commit(self) -> None:
        print("commit")
        super().commit()


async def save(obj: object) -> None:
    with AuditedSession(engine) as session:
        session.add(obj)
        session.commit()


async def plain(obj: object) -> None:
    with Session(engine) as session:
        session.add(obj)
        session.commit()

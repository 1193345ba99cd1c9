from sqlmodel import Session, create_engine, select

from .models import Item

engine = create_engine("sqlite:///./app.db")
REPORTS = []


def count_items() -> int:
    with Session(engine) as session:
        return len(session.exec(select(Item)).all())


REPORTS.append(count_items)  # called synchronously by a scheduler: stays sync


async def list_items() -> list[Item]:
    with Session(engine) as session:
        return session.exec(select(Item)).all()

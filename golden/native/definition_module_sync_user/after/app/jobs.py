from sqlmodel import Session, select

from .db import engine
from .models import Item

SCHEDULE = []


def nightly() -> int:
    with Session(engine) as session:
        return len(session.exec(select(Item)).all())


SCHEDULE.append(nightly)  # called synchronously by a scheduler: stays sync

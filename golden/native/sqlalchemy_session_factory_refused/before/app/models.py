from sqlalchemy import Column, Integer, String
from sqlalchemy.orm import declarative_base

from .db import get_db

Base = declarative_base()
SCHEDULE = []


class Item(Base):
    __tablename__ = "item"
    id = Column(Integer, primary_key=True)
    name = Column(String)


def count_items() -> int:
    with get_db() as db:
        return db.query(Item).count()


def nightly() -> None:
    with get_db() as db:
        db.query(Item).filter(Item.name == "").delete()
        db.commit()


SCHEDULE.append(nightly)  # called synchronously by a scheduler: stays sync

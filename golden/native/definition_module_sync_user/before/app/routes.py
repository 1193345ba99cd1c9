from sqlmodel import Session, select

from .db import engine
from .models import Item


async def items() -> list[Item]:
    with Session(engine) as session:
        return session.exec(select(Item)).all()

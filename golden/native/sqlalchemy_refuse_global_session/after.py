from sqlmodel import Session, create_engine, select

from .models import Item

engine = create_engine("sqlite:///./app.db")
shared = Session(engine)


async def items() -> list[Item]:
    return shared.exec(select(Item)).all()


async def names() -> list[str]:
    with Session(engine) as session:
        return [i.name for i in session.exec(select(Item)).all()]

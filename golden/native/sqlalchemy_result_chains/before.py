from fastapi import FastAPI
from sqlalchemy import select, text
from sqlmodel import Session

from .models import Item

app = FastAPI()


@app.get("/items")
async def list_items(session: Session) -> list[Item]:
    return session.exec(select(Item).order_by(Item.id)).all()


@app.get("/items/first")
async def first_item(session: Session) -> Item | None:
    return session.exec(
        select(Item)
        .where(Item.name != "")  # non-empty only
        .order_by(Item.id)
    ).first()


@app.get("/names")
async def names(session: Session) -> list[str]:
    return list(session.execute(select(Item.name)).scalars().all())


@app.get("/ids")
async def ids(session: Session) -> list[int]:
    result = session.execute(text("SELECT id FROM item"))
    rows = result.all()
    return [r.id for r in rows]


@app.get("/loop")
async def loop(session: Session) -> list[str]:
    out = []
    for item in session.exec(select(Item)):
        out.append(item.name)
    return out + list(session.scalars(select(Item.name)).all())

from fastapi import FastAPI
from sqlmodel import Session

from .db import engine
from .models import Item, Tag

app = FastAPI()


@app.get("/items/{item_id}")
async def read_item(item_id: int):
    with Session(engine) as session:
        item = session.query(Item).filter(Item.id == item_id).first()
        tagged = session.query(Item, Tag).join(Tag, Tag.item_id == Item.id).all()
        total = session.query(Item).count()
        return item, tagged, total


@app.delete("/items/{item_id}")
async def delete_item(item_id: int) -> int:
    with Session(engine) as session:
        gone = session.query(Item).filter(Item.id == item_id).delete()
        session.commit()
        return gone


@app.get("/titles")
async def titles():
    with Session(engine) as session:
        # one column: Query gives rows, sqlmodel's select() gives scalars
        return session.query(Item.title).all()

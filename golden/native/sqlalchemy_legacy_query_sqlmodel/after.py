from fastapi import FastAPI
from sqlalchemy import delete
from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from .db import engine
from .models import Item, Tag

app = FastAPI()


@app.get("/items/{item_id}")
async def read_item(item_id: int):
    async with AsyncSession(engine, expire_on_commit=False) as session:
        item = (await session.exec(select(Item).filter(Item.id == item_id).limit(1))).first()
        tagged = (await session.exec(select(Item, Tag).join(Tag, Tag.item_id == Item.id))).unique().all()
        total = (await session.exec(select(func.count()).select_from(select(Item).subquery()))).one()
        return item, tagged, total


@app.delete("/items/{item_id}")
async def delete_item(item_id: int) -> int:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        gone = (await session.exec(delete(Item).filter(Item.id == item_id))).rowcount
        await session.commit()
        return gone


@app.get("/titles")
async def titles():
    async with AsyncSession(engine, expire_on_commit=False) as session:
        # one column: Query gives rows, sqlmodel's select() gives scalars
        return session.query(Item.title).all()

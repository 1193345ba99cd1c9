from fastapi import FastAPI
from sqlalchemy import select, text
from sqlmodel.ext.asyncio.session import AsyncSession

from .models import Item

app = FastAPI()


@app.get("/items")
async def list_items(session: AsyncSession) -> list[Item]:
    return (await session.exec(select(Item).order_by(Item.id))).all()


@app.get("/items/first")
async def first_item(session: AsyncSession) -> Item | None:
    return (await session.exec(
        select(Item)
        .where(Item.name != "")  # non-empty only
        .order_by(Item.id)
    )).first()


@app.get("/names")
async def names(session: AsyncSession) -> list[str]:
    return list((await session.execute(select(Item.name))).scalars().all())


@app.get("/ids")
async def ids(session: AsyncSession) -> list[int]:
    result = await session.execute(text("SELECT id FROM item"))
    rows = result.all()
    return [r.id for r in rows]


@app.get("/loop")
async def loop(session: AsyncSession) -> list[str]:
    out = []
    for item in await session.exec(select(Item)):
        out.append(item.name)
    return out + list((await session.scalars(select(Item.name))).all())

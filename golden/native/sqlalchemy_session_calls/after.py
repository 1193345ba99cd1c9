from fastapi import FastAPI, HTTPException
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from .models import Item

app = FastAPI()


@app.post("/items")
async def create_item(item: Item, session: AsyncSession) -> Item:
    session.add(item)  # AsyncSession.add stays sync
    await session.flush()
    await session.commit()
    await session.refresh(item)
    return item


@app.get("/items/{item_id}")
async def read_item(item_id: int, session: AsyncSession) -> Item:
    item = await session.get(Item, item_id)
    if not await session.get(Item, item_id):
        raise HTTPException(status_code=404)
    return item


@app.get("/items/{item_id}/name")
async def item_name(item_id: int, session: AsyncSession) -> str:
    return (await session.get(Item, item_id)).name


@app.delete("/items/{item_id}")
async def delete_item(item_id: int, session: AsyncSession) -> None:
    item = await session.get_one(Item, item_id)
    await session.delete(item)
    try:
        await session.commit()
    except Exception:
        await session.rollback()
        raise


@app.get("/stats")
async def stats(session: AsyncSession) -> dict[str, int]:
    total = await session.scalar(select(Item.id).limit(1)) or 0
    merged = await session.merge(Item(id=1, name="x"))
    await session.close()
    return {"total": total, "merged": merged.id}

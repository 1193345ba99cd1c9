from fastapi import FastAPI, HTTPException
from sqlmodel import Session, select

from .models import Item

app = FastAPI()


@app.post("/items")
async def create_item(item: Item, session: Session) -> Item:
    session.add(item)  # AsyncSession.add stays sync
    session.flush()
    session.commit()
    session.refresh(item)
    return item


@app.get("/items/{item_id}")
async def read_item(item_id: int, session: Session) -> Item:
    item = session.get(Item, item_id)
    if not session.get(Item, item_id):
        raise HTTPException(status_code=404)
    return item


@app.get("/items/{item_id}/name")
async def item_name(item_id: int, session: Session) -> str:
    return session.get(Item, item_id).name


@app.delete("/items/{item_id}")
async def delete_item(item_id: int, session: Session) -> None:
    item = session.get_one(Item, item_id)
    session.delete(item)
    try:
        session.commit()
    except Exception:
        session.rollback()
        raise


@app.get("/stats")
async def stats(session: Session) -> dict[str, int]:
    total = session.scalar(select(Item.id).limit(1)) or 0
    merged = session.merge(Item(id=1, name="x"))
    session.close()
    return {"total": total, "merged": merged.id}

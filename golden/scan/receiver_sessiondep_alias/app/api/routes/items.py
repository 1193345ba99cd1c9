from fastapi import APIRouter, HTTPException
from sqlmodel import func, select

from app.deps import AsyncSessionDep, CurrentUser, SessionDep
from ...deps import ReadSession
from app.models import Item

router = APIRouter(prefix="/items", tags=["items"])


@router.get("/")
async def read_items(session: SessionDep, skip: int = 0, limit: int = 100) -> dict:
    count = session.exec(select(func.count()).select_from(Item)).one()  # expect: AM200
    items = session.exec(select(Item).offset(skip).limit(limit)).all()  # expect: AM200
    return {"data": items, "count": count}


@router.get("/{id}")
async def read_item(session: ReadSession, current_user: CurrentUser, id: int) -> Item:
    item = session.get(Item, id)  # expect: AM200
    if not item:
        raise HTTPException(status_code=404, detail="Item not found")
    if item.owner_id != current_user.id:
        raise HTTPException(status_code=400, detail="Not enough permissions")
    return item


@router.post("/")
async def create_item(session: AsyncSessionDep, current_user: CurrentUser, item_in: Item) -> Item:
    item_in.owner_id = current_user.id
    session.add(item_in)  # ok: add only stages the object
    await session.commit()  # ok: AsyncSession awaited
    await session.refresh(item_in)  # ok: AsyncSession awaited
    return item_in

from fastapi import APIRouter, Depends, HTTPException
from sqlmodel import Session, select

from db import get_session
from models import Hero

router = APIRouter()


@router.post("/heroes")
async def create_hero(hero: Hero, session: Session = Depends(get_session)) -> Hero:
    session.add(hero)  # ok: add only stages the object in memory
    session.commit()  # expect: AM200
    session.refresh(hero)  # expect: AM200
    return hero


@router.get("/heroes")
async def list_heroes(offset: int = 0, limit: int = 100, session: Session = Depends(get_session)) -> list[Hero]:
    statement = select(Hero).offset(offset).limit(limit)  # ok: builds a statement
    return session.exec(statement).all()  # expect: AM200


@router.get("/heroes/{hero_id}")
async def read_hero(hero_id: int, session: Session = Depends(get_session)) -> Hero:
    hero = session.get(Hero, hero_id)  # expect: AM200
    if not hero:
        raise HTTPException(status_code=404, detail="Hero not found")
    return hero


@router.delete("/heroes/{hero_id}")
async def delete_hero(hero_id: int, session: Session = Depends(get_session)) -> dict:
    hero = session.exec(select(Hero).where(Hero.id == hero_id)).first()  # expect: AM200
    session.delete(hero)  # expect: AM200
    session.commit()  # expect: AM200
    return {"ok": True}


@router.get("/heroes/names")
async def hero_names(session: Session = Depends(get_session)) -> list[str]:
    names = session.scalars(select(Hero.name)).all()  # expect: AM200
    session.expunge_all()  # ok: in-memory identity map
    result = session.execute(select(Hero.age))  # expect: AM200
    ages = result.scalars().all()  # expect: AM200
    return [n.upper() for n in names] + [str(a) for a in ages]

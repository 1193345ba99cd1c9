import asyncio
import sqlite3
from typing import Annotated
from fastapi import Depends
from sqlmodel import Session, SQLModel, Field, Relationship, select, create_engine

engine = create_engine("sqlite:///x.db")
conn = sqlite3.connect("x.db")


class Team(SQLModel, table=True):
    id: int = Field(primary_key=True)
    heroes: list["Hero"] = Relationship(back_populates="team")


class Hero(SQLModel, table=True):
    id: int = Field(primary_key=True)
    team: Team = Relationship(back_populates="heroes")


def get_session():
    with Session(engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


async def create_hero(hero: Hero, session: SessionDep) -> Hero:
    session.add(hero)
    session.commit()
    return hero


async def team_names(team_id: int, session: SessionDep) -> list[str]:
    team = session.get(Team, team_id)
    return [h.name for h in team.heroes]


async def count_rows() -> int:
    return conn.execute("select 1").fetchone()[0]


async def both(session: SessionDep):
    return await asyncio.gather(asyncio.to_thread(session.get, Team, 1), asyncio.to_thread(session.get, Hero, 2))

from sqlmodel import Field, Relationship, Session, SQLModel, select


class Team(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    heroes: list["Hero"] = Relationship(back_populates="team")
    sponsors: list["Hero"] = Relationship(sa_relationship_kwargs={"lazy": "selectin"})


class Hero(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    team_id: int | None = Field(default=None, foreign_key="team.id")
    team: Team | None = Relationship(back_populates="heroes")


async def roster(session: Session, team_id: int) -> list[int]:
    team = session.get(Team, team_id)
    return [hero.id for hero in team.heroes] + [s.id for s in team.sponsors]

from sqlmodel import Field, Session, SQLModel


class Item(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str


async def import_rows(session: Session, rows: list[dict], progress) -> None:
    await progress.send("start")
    for row in rows:
        item = session.get(Item, row["id"])
        if item is None:
            session.add(Item(**row))
        session.commit()
    await progress.send(len(rows))

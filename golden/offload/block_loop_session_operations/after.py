from sqlmodel import Field, Session, SQLModel
import asyncio


class Item(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str


def _import_rows_sync(rows: list[dict], session: Session):
    for row in rows:
        item = session.get(Item, row["id"])
        if item is None:
            session.add(Item(**row))
        session.commit()


async def import_rows(session: Session, rows: list[dict], progress) -> None:
    await progress.send("start")
    await asyncio.to_thread(_import_rows_sync, rows, session)
    await progress.send(len(rows))

from sqlalchemy import Column, String
from sqlalchemy import select

from .db import Base, get_db


class Note(Base):
    __tablename__ = "note"
    id = Column(String, primary_key=True)
    title = Column(String)


class NotesTable:
    async def get_note(self, id: str) -> Note | None:
        async with get_db() as db:
            return (await db.execute(select(Note).filter_by(id=id).limit(1))).scalars().first()

    async def insert(self, id: str, title: str) -> Note:
        async with get_db() as db:
            note = Note(id=id, title=title)
            db.add(note)
            await db.commit()
            await db.refresh(note)
            return note


Notes = NotesTable()

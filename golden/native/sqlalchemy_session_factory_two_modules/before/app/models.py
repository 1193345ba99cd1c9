from sqlalchemy import Column, String

from .db import Base, get_db


class Note(Base):
    __tablename__ = "note"
    id = Column(String, primary_key=True)
    title = Column(String)


class NotesTable:
    def get_note(self, id: str) -> Note | None:
        with get_db() as db:
            return db.query(Note).filter_by(id=id).first()

    def insert(self, id: str, title: str) -> Note:
        with get_db() as db:
            note = Note(id=id, title=title)
            db.add(note)
            db.commit()
            db.refresh(note)
            return note


Notes = NotesTable()

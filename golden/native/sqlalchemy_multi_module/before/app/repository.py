from sqlmodel import Session, select

from app.db import engine
from app.models import Note


class NoteRepository:
    @staticmethod
    def latest(limit: int = 10) -> list[Note]:
        with Session(engine) as session:
            return list(session.exec(select(Note).order_by(Note.id.desc()).limit(limit)).all())

    @staticmethod
    def create(text: str) -> Note:
        with Session(engine) as session:
            note = Note(text=text)
            session.add(note)
            session.commit()
            session.refresh(note)
            return note

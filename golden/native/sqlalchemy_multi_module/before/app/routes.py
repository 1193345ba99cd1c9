from fastapi import FastAPI, HTTPException
from sqlmodel import Session

from app.db import SessionDep
from app.models import Note

app = FastAPI()


def note_or_404(session: Session, note_id: int) -> Note:
    note = session.get(Note, note_id)
    if note is None:
        raise HTTPException(status_code=404)
    return note


@app.get("/notes/{note_id}")
async def read_note(note_id: int, session: SessionDep) -> Note:
    return note_or_404(session, note_id)


@app.post("/notes")
async def add_note(note: Note, session: SessionDep) -> Note:
    session.add(note)
    session.commit()
    session.refresh(note)
    return note

from fastapi import FastAPI, HTTPException
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import SessionDep
from app.models import Note

app = FastAPI()


async def note_or_404(session: AsyncSession, note_id: int) -> Note:
    note = await session.get(Note, note_id)
    if note is None:
        raise HTTPException(status_code=404)
    return note


@app.get("/notes/{note_id}")
async def read_note(note_id: int, session: SessionDep) -> Note:
    return await note_or_404(session, note_id)


@app.post("/notes")
async def add_note(note: Note, session: SessionDep) -> Note:
    session.add(note)
    await session.commit()
    await session.refresh(note)
    return note

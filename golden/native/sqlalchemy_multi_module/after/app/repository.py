from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import engine
from app.models import Note


class NoteRepository:
    @staticmethod
    async def latest(limit: int = 10) -> list[Note]:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            return list((await session.exec(select(Note).order_by(Note.id.desc()).limit(limit))).all())

    @staticmethod
    async def create(text: str) -> Note:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            note = Note(text=text)
            session.add(note)
            await session.commit()
            await session.refresh(note)
            return note

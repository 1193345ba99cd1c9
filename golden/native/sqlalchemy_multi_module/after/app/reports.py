from sqlalchemy import text

from app.db import engine


async def note_count() -> int:
    async with engine.connect() as conn:
        return (await conn.execute(text("SELECT count(*) FROM note"))).scalar_one()

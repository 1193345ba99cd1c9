from sqlalchemy import text

from app.db import engine


async def note_count() -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM note")).scalar_one()

from fastapi import Depends, FastAPI
from sqlalchemy import text

from app.db import get_async_db, get_db, get_session, readonly_session, session_scope

app = FastAPI()


@app.get("/a")
async def a(db=Depends(get_db)) -> list:
    return db.execute(text("select 1")).all()  # expect: AM200


@app.get("/b")
async def b(session=Depends(get_session)) -> None:
    session.commit()  # expect: AM200


@app.get("/c")
async def c(db=Depends(get_async_db)) -> list:
    result = await db.execute(text("select 1"))  # ok: AsyncSession awaited
    return result.all()  # ok: buffered result of an awaited query


@app.post("/d")
async def d() -> None:
    with session_scope() as s:  # expect: AM200 via=session_scope
        s.execute(text("delete from sessions where expired"))  # expect: AM200


@app.get("/e")
async def e() -> list:
    with readonly_session() as s:  # ok: entering only creates the session
        return s.execute(text("select 1")).all()  # expect: AM200

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

engine = create_async_engine("mysql+aiomysql://app@db/app")


async def version() -> str:
    async with engine.connect() as conn:
        row = (await conn.execute(text("SELECT VERSION()"))).one()
        await conn.commit()
    return row[0]


async def bump() -> None:
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE counters SET n = n + 1"))


async def shutdown() -> None:
    await engine.dispose()

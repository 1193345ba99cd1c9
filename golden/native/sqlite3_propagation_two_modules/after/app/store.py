import aiosqlite

DB = "visits.db"


async def record_visit(path: str) -> int:
    async with aiosqlite.connect(DB) as conn:
        await conn.execute("create table if not exists visits (path text)")
        await conn.execute("insert into visits (path) values (?)", (path,))
        (n,) = await (await conn.execute("select count(*) from visits where path = ?", (path,))).fetchone()
        await conn.commit()
    return n

import aiosqlite

DB_PATH = "notes.db"


async def init_db() -> None:
    async with aiosqlite.connect(DB_PATH) as conn:
        await conn.execute("create table if not exists notes (id integer primary key, body text)")
        await conn.commit()


async def add_note(body: str) -> int:
    async with aiosqlite.connect(DB_PATH) as conn:
        try:
            cur = await conn.execute("insert into notes (body) values (?)", (body,))
            return cur.lastrowid
        except BaseException:
            await conn.rollback()
            raise
        finally:
            await conn.commit()


async def list_notes() -> list[tuple[int, str]]:
    async with aiosqlite.connect(DB_PATH) as conn:
        rows = await (await conn.execute("select id, body from notes order by id")).fetchall()
        await conn.commit()
    return rows


async def delete_all() -> int:
    async with aiosqlite.connect(DB_PATH) as conn:
        n = (await (await conn.execute("select count(*) from notes")).fetchone())[0]
        await conn.executemany("delete from notes where id = ?", [(i,) for i in range(1, n + 1)])
        await conn.commit()
    return n

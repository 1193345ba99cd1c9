import sqlite3

import aiosqlite

DB_PATH = "shop.db"


async def setup() -> None:
    async with aiosqlite.connect(DB_PATH) as conn:
        await conn.executescript("create table if not exists items (name text, qty integer);")
        await conn.commit()


async def restock(name: str, qty: int) -> int:
    async with aiosqlite.connect(DB_PATH) as conn:
        await conn.execute("insert into items values (?, ?)", (name, qty))
        await conn.commit()
        total = (await (await conn.execute("select sum(qty) from items")).fetchone())[0]
    return total


async def names() -> list[str]:
    async with aiosqlite.connect(DB_PATH) as conn:
        conn.row_factory = sqlite3.Row
        out = []
        async for row in await conn.execute("select name from items order by name"):
            out.append(row["name"])
    return out


async def count() -> int:
    async with aiosqlite.connect(DB_PATH) as conn:
        cur = await conn.cursor()
        await cur.execute("select count(*) from items")
        (n,) = await cur.fetchone()
        await cur.close()
    return n

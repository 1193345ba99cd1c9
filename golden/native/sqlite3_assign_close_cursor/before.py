import sqlite3
from contextlib import closing

DB_PATH = "shop.db"


async def setup() -> None:
    conn = sqlite3.connect(DB_PATH)
    conn.executescript("create table if not exists items (name text, qty integer);")
    conn.commit()
    conn.close()


async def restock(name: str, qty: int) -> int:
    conn = sqlite3.connect(DB_PATH)
    try:
        conn.execute("insert into items values (?, ?)", (name, qty))
        conn.commit()
        total = conn.execute("select sum(qty) from items").fetchone()[0]
    finally:
        conn.close()
    return total


async def names() -> list[str]:
    conn = sqlite3.connect(DB_PATH)
    conn.row_factory = sqlite3.Row
    out = []
    for row in conn.execute("select name from items order by name"):
        out.append(row["name"])
    conn.close()
    return out


async def count() -> int:
    with closing(sqlite3.connect(DB_PATH)) as conn:
        cur = conn.cursor()
        cur.execute("select count(*) from items")
        (n,) = cur.fetchone()
        cur.close()
    return n

import sqlite3

DB_PATH = "notes.db"


async def init_db() -> None:
    with sqlite3.connect(DB_PATH) as conn:
        conn.execute("create table if not exists notes (id integer primary key, body text)")


async def add_note(body: str) -> int:
    with sqlite3.connect(DB_PATH) as conn:
        cur = conn.execute("insert into notes (body) values (?)", (body,))
        return cur.lastrowid


async def list_notes() -> list[tuple[int, str]]:
    with sqlite3.connect(DB_PATH) as conn:
        rows = conn.execute("select id, body from notes order by id").fetchall()
        conn.commit()
    return rows


async def delete_all() -> int:
    with sqlite3.connect(DB_PATH) as conn:
        n = conn.execute("select count(*) from notes").fetchone()[0]
        conn.executemany("delete from notes where id = ?", [(i,) for i in range(1, n + 1)])
    return n

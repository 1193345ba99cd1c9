import asyncio
import sqlite3

from fastapi import FastAPI

app = FastAPI()
DB = "todos.db"


def connect() -> sqlite3.Connection:
    conn = sqlite3.connect(DB, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    return conn


@app.get("/todos")
async def todos() -> list[dict]:
    conn = sqlite3.connect(DB)  # expect: AM210
    rows = conn.execute("select id, title from todos").fetchall()  # expect: AM210
    conn.close()  # expect: AM210
    return [dict(r) for r in rows]


@app.post("/todos")
async def add_todo(title: str) -> int:
    conn = connect()  # expect: AM210 via=connect
    cur = conn.cursor()  # ok: creating a cursor does no I/O
    cur.execute("insert into todos(title) values (?)", (title,))  # expect: AM210
    conn.commit()  # expect: AM210
    return cur.lastrowid


@app.get("/todos/count")
async def count() -> int:
    with sqlite3.connect(DB) as conn:  # expect: AM210
        total = conn.cursor().execute("select count(*) from todos").fetchone()[0]  # expect: AM210
        cur = conn.cursor()
        cur.execute("select title from todos")  # expect: AM210
        titles = cur.fetchall()  # expect: AM210
    return total + len(titles)


@app.get("/todos/offloaded")
async def offloaded() -> int:
    conn = await asyncio.to_thread(sqlite3.connect, DB)  # ok: runs in a worker thread
    return 0 if conn is None else 1

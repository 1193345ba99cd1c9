import sqlite3

shared = sqlite3.connect("shared.db", check_same_thread=False)


async def from_shared() -> list:
    return shared.execute("select 1").fetchall()


async def used_after_with() -> list:
    with sqlite3.connect("a.db") as conn:
        conn.execute("create table if not exists t (x)")
    return conn.execute("select x from t").fetchall()


async def never_closed() -> None:
    conn = sqlite3.connect("a.db")
    conn.execute("insert into t values (1)")
    conn.commit()


async def transaction_block() -> None:
    conn = sqlite3.connect("a.db")
    with conn:
        conn.execute("insert into t values (2)")
    conn.close()


async def passed_in(conn: sqlite3.Connection) -> int:
    return conn.execute("select count(*) from t").fetchone()[0]

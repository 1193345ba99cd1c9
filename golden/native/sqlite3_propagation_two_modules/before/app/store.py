import sqlite3

DB = "visits.db"


def record_visit(path: str) -> int:
    with sqlite3.connect(DB) as conn:
        conn.execute("create table if not exists visits (path text)")
        conn.execute("insert into visits (path) values (?)", (path,))
        (n,) = conn.execute("select count(*) from visits where path = ?", (path,)).fetchone()
    return n

from sqlalchemy import create_engine, text

engine = create_engine("mysql+pymysql://app@db/app")


async def version() -> str:
    with engine.connect() as conn:
        row = conn.execute(text("SELECT VERSION()")).one()
        conn.commit()
    return row[0]


async def bump() -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE counters SET n = n + 1"))


async def shutdown() -> None:
    engine.dispose()

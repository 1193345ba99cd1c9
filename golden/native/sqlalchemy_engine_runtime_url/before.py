"""Engine from the environment."""

import os

from sqlmodel import Session, create_engine

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://app@localhost/app")
engine = create_engine(DATABASE_URL, pool_size=10)


async def ping() -> None:
    with Session(engine) as session:
        session.commit()

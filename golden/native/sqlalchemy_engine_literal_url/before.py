from sqlmodel import Session, create_engine

engine = create_engine(
    "sqlite:///./app.db",
    echo=True,
    connect_args={"check_same_thread": False},
)
reporting = create_engine('postgresql+psycopg2://report@db/reports', pool_pre_ping=True)


async def ping() -> None:
    with Session(engine) as session:
        session.commit()

from sqlmodel import Field, Session, SQLModel, create_engine

engine = create_engine("sqlite:///app.db")


class Item(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str


def get_session():
    with Session(engine) as session:
        yield session

from sqlmodel import Session, select


class BaseRepository:
    model: type

    def __init__(self, session: Session) -> None:
        self.session = session

    def list_all(self) -> list:
        return self.session.exec(select(self.model)).all()

    def save(self, obj) -> None:
        self.session.add(obj)
        self.session.commit()

    def describe(self) -> str:
        return self.model.__name__

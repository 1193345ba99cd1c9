import boto3
from sqlmodel import Session, select

from app.config import settings
from app.models import User


class UserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def get(self, user_id: int) -> User | None:
        return self.session.get(User, user_id)  # expect: AM200

    async def by_email(self, email: str) -> User | None:
        return self.session.exec(select(User).where(User.email == email)).first()  # expect: AM200


class AuditLog:
    session: Session

    async def record(self, event: User) -> None:
        self.session.add(event)  # ok: add only stages the object
        self.session.commit()  # expect: AM200


class ReportStore:
    def __init__(self) -> None:
        self.root = settings.data_dir / "reports"
        self.bucket = boto3.client("s3")
        self.cache: dict[str, bytes] = {}

    async def load(self, name: str) -> bytes:
        if name in self.cache:
            return self.cache.get(name, b"")  # ok: plain dict
        path = self.root / name
        data = path.read_bytes()  # expect: AM130
        self.bucket.upload_file(str(path), "reports", name)  # expect: AM220
        self.cache[name] = data
        return data


async def ensure_dirs() -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)  # expect: AM130
    url = settings.redis_url.split("/")  # ok: string

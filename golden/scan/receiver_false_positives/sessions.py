class Session:
    """A web login session kept in memory (not a database session)."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}

    def get(self, key: str) -> str | None:
        return self.data.get(key)

    def execute(self, command: str) -> None:
        self.data["last"] = command


class Storage:
    def open(self, name: str) -> bytes:
        return name.encode()

import functools
import json
import time

from sqlmodel import Session, select


class Config:
    def __init__(self, path: str) -> None:
        with open(path) as f:
            self.data = json.load(f)


class Model:
    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, text: str) -> str:
        time.sleep(0.2)
        return text[::-1]


class Store:
    def __init__(self, session: Session) -> None:
        self.session = session

    @property
    def total(self) -> int:
        return len(self.session.exec(select(Store)).all())

    @property
    def label(self) -> str:
        return "store"


@functools.lru_cache(maxsize=1)
def load_vocab() -> list[str]:
    with open("vocab.txt") as f:
        return f.read().split()


async def handler(session: Session) -> dict:
    cfg = Config("config.json")  # expect: AM120 via=Config.__init__
    model = Model("tiny")  # ok: __init__ only stores the name
    out = model("hello")  # expect: AM150 via=Model.__call__
    store = Store(session)  # ok: __init__ only stores the session
    count = store.total  # expect: AM200 via=Store.total
    name = store.label  # ok: pure property
    vocab = load_vocab()  # expect: AM120 via=load_vocab
    return {"cfg": cfg.data, "out": out, "count": count, "name": name, "vocab": vocab}

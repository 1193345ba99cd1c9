"""The SQLAlchemy / SQLModel native target: golden pairs, URL swapping, refusals.

Golden pairs: ``golden/native/sqlalchemy_<case>/before.py`` -> ``after.py`` (one module, rewritten as
``app.py``) or ``before/`` -> ``after/`` (a small project). They run through the native driver
(``codemods/native/apply.py``: plan, ``rewrite_call``, ``rewrite_module``, imports) with this target
only. Optional ``review.txt``: one expected review-reason substring per line; each must match a
review and every review must match a line.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import libcst as cst
import pytest
from asgi_migrate.codemods.analysis import Finding
from asgi_migrate.codemods.native.apply import native_project
from asgi_migrate.codemods.native.base import NativeConfig, TargetContext
from asgi_migrate.codemods.native.targets.sqlalchemy import (
    ASYNC_DRIVERS,
    URL_HELPER,
    SqlAlchemyTarget,
    async_url_literal,
    url_helper_source,
    url_requirement,
)
from libcst.metadata import MetadataWrapper, ParentNodeProvider

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "native"
CASES = sorted(p for p in GOLDEN.glob("sqlalchemy_*") if (p / "before.py").is_file() or (p / "before").is_dir())


# --------------------------------------------------------------------------- through the driver


def run_project(files: dict[str, str], target: SqlAlchemyTarget | None = None) -> tuple[dict[str, str], list[str]]:
    """Each file planned and rewritten by the native driver with this target only, and every review reason."""
    target = target or SqlAlchemyTarget()
    _, out = native_project(files, targets=[target])
    code = {rel: out[rel][0] if rel in out else source for rel, source in files.items()}
    reviews = [reason for _, (_, _, review) in sorted(out.items()) for _, reason in review]
    return code, reviews


def run_target(source: str, path: str = "app.py", target: SqlAlchemyTarget | None = None) -> tuple[str, list[str]]:
    """One module rewritten, and the review reasons (refusals, notes and the plan's)."""
    files, reviews = run_project({path: source}, target)
    return files[path], reviews


def module_only(source: str, target: SqlAlchemyTarget | None = None) -> tuple[str, list[str]]:
    """``rewrite_module`` alone (the driver calls it only in files where the target converted a call)."""
    target = target or SqlAlchemyTarget()
    module = cst.parse_module(source)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    parents = wrapper.resolve(ParentNodeProvider)

    def enclosing(node: cst.CSTNode) -> cst.FunctionDef | None:
        up = parents.get(node)
        while up is not None and not isinstance(up, cst.FunctionDef):
            up = parents.get(up)
        return up

    ctx = TargetContext(NativeConfig(), module, "app.py", lambda fn: fn.asynchronous is not None, enclosing,
                        parents.get)
    new = target.rewrite_module(module, ctx)
    return new.code, [reason for _, _, reason in ctx.review]


def _case_files(case: Path) -> Iterator[tuple[str, str, str]]:
    """(relative path, before, after) of a case."""
    if (case / "before.py").is_file():
        yield "app.py", (case / "before.py").read_text(), (case / "after.py").read_text()
        return
    for before in sorted((case / "before").rglob("*.py")):
        rel = before.relative_to(case / "before").as_posix()
        yield rel, before.read_text(), (case / "after" / rel).read_text()


def _expected_reviews(case: Path) -> list[str]:
    path = case / "review.txt"
    return [line.strip() for line in path.read_text().splitlines() if line.strip()] if path.is_file() else []


# --------------------------------------------------------------------------- golden pairs


def test_enough_cases() -> None:
    assert len(CASES) >= 12


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_golden(case: Path) -> None:
    files = list(_case_files(case))
    got, reviews = run_project({rel: before for rel, before, _ in files})
    for rel, _, after in files:
        assert got[rel] == after, rel
    expected = _expected_reviews(case)
    for want in expected:
        assert any(want in r for r in reviews), (want, reviews)
    for r in reviews:
        assert any(want in r for want in expected), (r, expected)


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_after_compiles(case: Path) -> None:
    for rel, _, after in _case_files(case):
        compile(after, rel, "exec", dont_inherit=True)


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_idempotent(case: Path) -> None:
    files = list(_case_files(case))
    got, _ = run_project({rel: after for rel, _, after in files})
    for rel, _, after in files:
        assert got[rel] == after, rel


# --------------------------------------------------------------------------- URLs


@pytest.mark.parametrize(("url", "expected"), [
    ("sqlite:///./app.db", "sqlite+aiosqlite:///./app.db"),
    ("sqlite://", "sqlite+aiosqlite://"),
    ("sqlite+pysqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ("postgresql://u:p@h/db", "postgresql+asyncpg://u:p@h/db"),
    ("postgresql+psycopg2://u@h:5432/db", "postgresql+asyncpg://u@h:5432/db"),
    ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
    ("mysql://u@h/db", "mysql+aiomysql://u@h/db"),
    ("mysql+pymysql://u@h/db?charset=utf8mb4", "mysql+aiomysql://u@h/db?charset=utf8mb4"),
    ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ("oracle+cx_oracle://u@h/db", None),
    ("not a url", None),
])
def test_async_url_literal(url: str, expected: str | None) -> None:
    assert async_url_literal(url) == expected


def test_url_requirements() -> None:
    assert url_requirement("sqlite:///x.db") == "aiosqlite"
    assert url_requirement("postgresql+psycopg2://h/db") == "asyncpg"
    assert url_requirement("mysql+pymysql://h/db") == "aiomysql"
    assert url_requirement("postgresql+psycopg://h/db") == "psycopg[binary]"


def _helper() -> object:
    namespace: dict[str, object] = {}
    exec("from sqlalchemy.engine import URL, make_url\n" + url_helper_source(), namespace)  # noqa: S102
    return namespace[URL_HELPER]


@pytest.mark.parametrize(("url", "expected"), [
    ("sqlite:///./chatapp.db", "sqlite+aiosqlite:///./chatapp.db"),
    ("sqlite:////tmp/x/chat.db", "sqlite+aiosqlite:////tmp/x/chat.db"),
    ("sqlite://", "sqlite+aiosqlite://"),
    ("postgresql://user:p%40ss@db.example:5432/app?sslmode=require",
     "postgresql+asyncpg://user:p%40ss@db.example:5432/app?sslmode=require"),
    ("postgresql+psycopg2://u@h/db", "postgresql+asyncpg://u@h/db"),
    ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
    ("mysql+pymysql://u:pw@h/db?charset=utf8mb4", "mysql+aiomysql://u:pw@h/db?charset=utf8mb4"),
    ("mysql://u@h/db", "mysql+aiomysql://u@h/db"),
])
def test_run_time_url_helper(url: str, expected: str) -> None:
    from sqlalchemy.engine import make_url

    helper = _helper()
    got = helper(url)  # type: ignore[operator]
    assert got.render_as_string(hide_password=False) == expected
    assert helper(make_url(url)).render_as_string(hide_password=False) == expected  # type: ignore[operator]


def test_run_time_url_helper_covers_every_driver() -> None:
    helper = _helper()
    for sync, async_ in ASYNC_DRIVERS.items():
        assert helper(f"{sync}://u@h/db").drivername == async_  # type: ignore[operator]


def test_run_time_helper_builds_a_working_engine(tmp_path: Path) -> None:
    """The rewritten module really opens an aiosqlite engine from a non-literal sync URL."""
    source = (
        "from sqlmodel import SQLModel, Field, create_engine\n\n"
        "class Item(SQLModel, table=True):\n"
        "    id: int | None = Field(default=None, primary_key=True)\n\n"
        f"DATABASE_URL = {('sqlite:///' + str(tmp_path / 'x.db'))!r}\n"
        "engine = create_engine(DATABASE_URL, connect_args={'check_same_thread': False})\n\n\n"
        "async def init_db() -> None:\n"
        "    SQLModel.metadata.create_all(engine)\n"
    )
    code, _ = run_target(source)
    assert "create_async_engine(_async_database_url(DATABASE_URL)" in code
    assert "await conn.run_sync(SQLModel.metadata.create_all)" in code
    namespace: dict[str, object] = {"__name__": "migrated"}
    exec(compile(code, "migrated.py", "exec"), namespace)  # noqa: S102

    async def main() -> list[str]:
        await namespace["init_db"]()  # type: ignore[operator]
        engine = namespace["engine"]
        async with engine.connect() as conn:  # type: ignore[attr-defined]
            from sqlalchemy import inspect

            names = await conn.run_sync(lambda c: inspect(c).get_table_names())
        await engine.dispose()  # type: ignore[attr-defined]
        return names

    assert asyncio.run(main()) == ["item"]


# --------------------------------------------------------------------------- units


def test_handles_only_sqlalchemy() -> None:
    target = SqlAlchemyTarget()
    f = Finding("app.py", 1, 0, 1, 1, "AM200", "sqlalchemy.orm.Session.commit", "app.f", "")
    assert target.handles(f)
    assert not target.handles(Finding("app.py", 1, 0, 1, 1, "AM150", "time.sleep", "app.f", ""))


def test_requirements_detected() -> None:
    target = SqlAlchemyTarget()
    module_only("from sqlalchemy import create_engine\nengine = create_engine('postgresql://h/db')\n", target)
    assert target.requirements == ("asyncpg", "sqlalchemy[asyncio]>=2.0")


def test_non_literal_url_without_hint_is_noted() -> None:
    code, reviews = module_only("from sqlalchemy import create_engine\nimport os\n"
                               "engine = create_engine(os.environ['DB'])\n")
    assert "create_async_engine(_async_database_url(os.environ['DB']))" in code
    assert any("install the asyncio driver" in r for r in reviews)


def test_sync_function_session_is_noted() -> None:
    _, reviews = module_only(
        "from sqlmodel import Session, create_engine\nengine = create_engine('sqlite://')\n\n"
        "def count() -> int:\n    with Session(engine) as s:\n        return 1\n")
    assert any("stays sync" in r for r in reviews)


def test_lazy_relationship_from_project_facts_is_noted() -> None:
    source = (
        "from sqlmodel import Session\nfrom app.models import Conversation\n\n"
        "async def titles(session: Session, cid: int) -> list[str]:\n"
        "    conv = session.get(Conversation, cid)\n"
        "    return [m.content for m in conv.messages]\n"
    )
    code, reviews = run_target(source, target=SqlAlchemyTarget(relationships={"messages"}))
    assert "conv = await session.get(Conversation, cid)" in code
    assert any("lazy relationship `conv.messages`" in r for r in reviews)


def test_expression_positions_of_refusals_keep_code() -> None:
    source = ("from sqlmodel import Session\n\nasync def f(s: Session):\n"
              "    return s.query(X).with_entities(X.id).first()\n")
    code, reviews = run_target(source)
    assert "s.query(X).with_entities(X.id).first()" in code
    assert any("legacy Query API" in r for r in reviews)


def test_reasons_are_sentences() -> None:
    for case in CASES:
        for line in _expected_reviews(case):
            assert re.match(r"^[\w`(.]", line)


# --------------------------------------------------------------------------- legacy Query: run both and compare

_LEGACY_MODELS = '''
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    addresses: Mapped[list["Address"]] = relationship(back_populates="user")


class Address(Base):
    __tablename__ = "addresses"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    user: Mapped[User] = relationship(back_populates="addresses")
'''

_LEGACY_QUERIES = '''
from sqlalchemy.orm import Session, joinedload

from legacy_models import Address, User


async def first_by_name(db: Session, name: str = "bob"):
    user = db.query(User).filter_by(name=name).first()
    missing = db.query(User).filter(User.name == "nobody").first()
    return user.id, missing


async def joined_all(db: Session):
    return [u.id for u in db.query(User).join(Address).filter(Address.email != "").order_by(User.id).all()]


async def implicit_join(db: Session):
    return [u.id for u in db.query(User).filter(User.id == Address.user_id).order_by(User.id).all()]


async def eager(db: Session):
    users = db.query(User).options(joinedload(User.addresses)).order_by(User.id).all()
    first = db.query(User).options(joinedload(User.addresses)).order_by(User.id).first()
    return [(u.id, len(u.addresses)) for u in users], (first.id, len(first.addresses))


async def columns(db: Session):
    rows = db.query(User.id, User.name).order_by(User.id).all()
    last = db.query(User.name).order_by(User.id.desc()).first()
    return [tuple(r) for r in rows], tuple(last)


async def pairs(db: Session):
    rows = db.query(User, Address).join(Address, Address.user_id == User.id).order_by(Address.id).all()
    return [(u.id, a.id) for u, a in rows]


async def counts(db: Session):
    return (db.query(User).count(), db.query(User).join(Address).count(),
            db.query(Address).filter(Address.user_id == 1).count())


async def one_and_scalar(db: Session):
    one = db.query(User).filter_by(name="ann").one()
    none = db.query(User).filter_by(name="nobody").one_or_none()
    name = db.query(User.name).filter_by(id=2).scalar()
    entity = db.query(User).filter_by(id=2).scalar()
    nothing = db.query(User.name).filter_by(id=99).scalar()
    return one.id, none, name, entity.id, nothing


async def get(db: Session):
    return db.query(User).get(2).name, db.query(User).options(joinedload(User.addresses)).get(1).name


async def writes(db: Session):
    updated = db.query(User).filter_by(name="bob").update({"name": "bobby"})
    deleted = db.query(Address).filter(Address.email.like("%@b%")).delete(synchronize_session=False)
    db.query(Address).filter_by(user_id=3).delete()
    db.commit()
    return updated, deleted, [u.name for u in db.query(User).order_by(User.id).all()], db.query(Address).count()
'''


@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.LegacyAPIWarning")
def test_legacy_query_translations_return_what_query_returned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every translated legacy Query gives the same values on AsyncSession as the Query on a sync Session."""
    import importlib

    from sqlalchemy import create_engine
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
    from sqlalchemy.orm import Session

    (tmp_path / "legacy_models.py").write_text(_LEGACY_MODELS)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(__import__("sys").modules, "legacy_models", raising=False)
    models = importlib.import_module("legacy_models")
    code, reviews = run_target(_LEGACY_QUERIES)
    assert reviews == [] and ".query(" not in code, (reviews, code)
    legacy: dict[str, object] = {}
    exec(compile(_LEGACY_QUERIES, "legacy.py", "exec"), legacy)  # noqa: S102
    migrated: dict[str, object] = {}
    exec(compile(code, "migrated.py", "exec"), migrated)  # noqa: S102

    def seeded(name: str) -> str:
        path = tmp_path / f"{name}.db"
        path.unlink(missing_ok=True)
        engine = create_engine(f"sqlite:///{path}")
        models.Base.metadata.create_all(engine)
        with Session(engine) as s:
            ann, bob, cid = models.User(id=1, name="ann"), models.User(id=2, name="bob"), models.User(id=3, name="cid")
            s.add_all([ann, bob, cid,
                       models.Address(id=1, email="ann@a", user=ann), models.Address(id=2, email="ann@b", user=ann),
                       models.Address(id=3, email="bob@b", user=bob), models.Address(id=4, email="cid@c", user=cid)])
            s.commit()
        engine.dispose()
        return str(path)

    async def run_migrated(fn: object, path: str) -> object:
        engine = create_async_engine(f"sqlite+aiosqlite:///{path}")
        try:
            async with AsyncSession(engine, expire_on_commit=False) as s:
                return await fn(s)  # type: ignore[operator]
        finally:
            await engine.dispose()

    names = [n for n in legacy if not n.startswith("_") and n not in ("Session", "joinedload", "Address", "User")
             and callable(legacy[n])]
    assert len(names) == 10
    for name in names:
        engine = create_engine(f"sqlite:///{seeded(name)}")
        with Session(engine) as s:
            want = asyncio.run(legacy[name](s))  # type: ignore[operator]
        engine.dispose()
        got = asyncio.run(run_migrated(migrated[name], seeded(name)))
        assert got == want, (name, got, want)


# --------------------------------------------------------------------------- session factories


def _tree(case: Path) -> dict[str, str]:
    return {rel: before for rel, before, _ in _case_files(case)}


def test_session_factory_is_converted_by_the_target_not_kept_sync() -> None:
    """``get_db = contextmanager(get_session)``: the target converts the generator, callers use ``async with``."""
    plan, _ = native_project(_tree(GOLDEN / "sqlalchemy_session_factory_two_modules"), targets=[SqlAlchemyTarget()])
    assert "app.db.get_session" in plan.target_async
    assert not any(s.function == "app.db.get_session" for s in plan.stops)
    assert plan.files["app/models.py"].async_with
    assert "app.db.get_session" not in plan.async_functions


def test_session_factory_with_a_sync_user_stays_sync_with_the_reason() -> None:
    plan, _ = native_project(_tree(GOLDEN / "sqlalchemy_session_factory_refused"), targets=[SqlAlchemyTarget()])
    assert "app.db.get_session" not in plan.target_async
    stop = next(s for s in plan.stops if s.function == "app.db.get_session")
    assert "stays sync" in stop.reason and "nightly" in stop.reason


def test_session_factory_blocked_at_import_time() -> None:
    source = (GOLDEN / "sqlalchemy_session_factory_two_modules" / "before" / "app" / "db.py").read_text()
    assert [f.blocked for f in SqlAlchemyTarget().session_factories(source)] == [""]
    listened = source + '\nevent.listen(engine, "connect", print)\n'
    (factory,) = SqlAlchemyTarget().session_factories(listened)
    assert "event.listen" in factory.blocked and "sync_engine" in factory.blocked
    creator = source.replace('create_engine("sqlite:///app.db")', 'create_engine("sqlite://", creator=connect)')
    (factory,) = SqlAlchemyTarget().session_factories(creator)
    assert "creator=" in factory.blocked

"""Native target for SQLAlchemy 2.0 and SQLModel: ``AsyncEngine`` / ``AsyncSession``.

Call sites (``rewrite_call``, each in a function that is async after the rewrite)::

    session.commit()                  ->  await session.commit()
    session.exec(q).all()             ->  (await session.exec(q)).all()   # results are buffered
    session.get(X, 1)                 ->  await session.get(X, 1)
    conn.execute(q).scalars().all()   ->  (await conn.execute(q)).scalars().all()
    result.all()                      ->  result.all()                     # read from an awaited result
    engine.dispose()                  ->  await engine.dispose()
    with engine.connect() as conn:    ->  async with engine.connect() as conn:   (by rewrite_module)
    metadata.create_all(engine)       ->  async with engine.begin() as conn:
                                              await conn.run_sync(metadata.create_all)   (rewrite_module)

Module (``rewrite_module``)::

    create_engine("sqlite:///x.db")   ->  create_async_engine("sqlite+aiosqlite:///x.db")
    create_engine(url, **kw)          ->  create_async_engine(_async_database_url(url), **kw)
                                          (a helper swapping the driver at run time is added)
    sessionmaker(bind=e)              ->  async_sessionmaker(bind=e, expire_on_commit=False)
    Session(engine)                   ->  AsyncSession(engine, expire_on_commit=False)   (async functions)
    with Session(engine) as s:        ->  async with AsyncSession(engine, expire_on_commit=False) as s:
    def get_session():                ->  async def get_session():
        with Session(engine) as s:            async with AsyncSession(engine, expire_on_commit=False) as s:
            yield s                               yield s
    Annotated[Session, Depends(f)]    ->  Annotated[AsyncSession, Depends(f)]
    def f(session: Session)           ->  def f(session: AsyncSession)   (async functions)

``AsyncSession`` comes from ``sqlmodel.ext.asyncio.session`` in modules that use SQLModel (its
``exec``), else from ``sqlalchemy.ext.asyncio``. Imports made unused are handed to the driver
(``ctx.drop_import``: ``RemoveImportsVisitor``). Reads of lazy relationships on loaded objects are noted for review
(they raise ``MissingGreenlet`` under ``AsyncSession``: load them with ``selectinload``).

The legacy ``Query`` API, when the query is built and run in one expression (SQLAlchemy's 2.0 migration
mapping; ``exec`` and ``sqlmodel.select`` in SQLModel modules, where one entity gives scalars already)::

    db.query(X).filter(c).all()        ->  (await db.execute(select(X).filter(c))).scalars().all()
    db.query(X).filter_by(a=1).first() ->  (await db.execute(select(X).filter_by(a=1).limit(1))).scalars().first()
    db.query(X).join(Y, on).all()      ->  (await db.execute(select(X).join(Y, on))).scalars().unique().all()
                                           (Query de-duplicates ORM entities: ``.unique()`` wherever rows can
                                           repeat: joins, joined eager loads, other entities in the criteria)
    db.query(X.a, X.b).all()           ->  (await db.execute(select(X.a, X.b))).all()          # rows
    .one() / .one_or_none()            ->  .scalars().one() / .scalars().one_or_none()
    .scalar()                          ->  .scalar_one_or_none()     # Query.scalar() is one_or_none()[0]
    db.query(X).filter(c).count()      ->  (await db.execute(select(func.count())
                                                .select_from(select(X).filter(c).subquery()))).scalar_one()
    db.query(X).get(pk)                ->  await db.get(X, pk)        # .options(o) -> options=[o]
    db.query(X).filter(c).delete()     ->  await db.execute(delete(X).filter(c))
    db.query(X).filter(c).update(v)    ->  await db.execute(update(X).filter(c).values(v))
        (synchronize_session=s -> execution_options={"synchronize_session": s}; the default, "auto", is
        the same for both; a used result becomes ``.rowcount``, what Query returned)

``select``/``func``/``delete``/``update`` are imported (``sa_update`` when the name is taken).
Refused, with the reason: a Query kept in a variable, iterated, returned or passed on; methods with no
exact ``Select`` equivalent here (``with_entities``, ``yield_per``, ``subquery``...); entities that cannot
be told from columns (``db.query(model)``); ``get()`` after criteria; ``delete()``/``update()`` after
joins, ordering or limits.

Refused (the site is left as it is, with the reason): ``scoped_session``
(thread-local), ``Session`` subclasses, sessions kept in module globals, ``Session.connection()``,
``Engine.raw_connection()``, and sessions in functions that stay sync.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import libcst as cst
import libcst.matchers as m
from libcst.helpers import get_full_name_for_node
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from ...analysis import Finding
from ..base import Refusal, TargetContext, awaited
from ..def_paths import DefPath, DefPathStack

# --------------------------------------------------------------------------- library names

_SESSIONS = frozenset({"sqlmodel.Session", "sqlmodel.orm.session.Session", "sqlalchemy.orm.Session",
                       "sqlalchemy.orm.session.Session"})
_ENGINE_FACTORIES = frozenset({"sqlmodel.create_engine", "sqlalchemy.create_engine",
                               "sqlalchemy.engine.create_engine", "sqlalchemy.engine.create.create_engine"})
_SESSIONMAKERS = frozenset({"sqlalchemy.orm.sessionmaker", "sqlalchemy.orm.session.sessionmaker"})
_SCOPED = frozenset({"sqlalchemy.orm.scoped_session", "sqlalchemy.orm.scoping.scoped_session"})
_RELATIONSHIPS = frozenset({"sqlmodel.Relationship", "sqlmodel.main.Relationship", "sqlalchemy.orm.relationship",
                            "sqlalchemy.orm.relationships.relationship"})
_ANNOTATED = frozenset({"typing.Annotated", "typing_extensions.Annotated"})
_DEPENDS = frozenset({"fastapi.Depends", "fastapi.params.Depends"})
_ITERATORS = {"typing.Iterator": "AsyncIterator", "collections.abc.Iterator": "AsyncIterator",
              "typing.Generator": "AsyncGenerator", "collections.abc.Generator": "AsyncGenerator"}

SQLMODEL_ASYNC_SESSION = "sqlmodel.ext.asyncio.session"
SQLALCHEMY_ASYNCIO = "sqlalchemy.ext.asyncio"

# AsyncSession methods that are coroutines (the others, ``add``, ``expunge``..., stay sync)
_ASYNC_SESSION_METHODS = frozenset({
    "exec", "execute", "scalar", "scalars", "get", "get_one", "commit", "flush", "refresh", "delete", "merge",
    "rollback", "close", "invalidate", "run_sync", "stream", "stream_scalars", "reset"})
_SYNC_SESSION_METHODS = frozenset({"add", "add_all", "expunge", "expunge_all", "expire", "expire_all",
                                   "is_modified", "in_transaction", "in_nested_transaction", "get_bind"})
_CONNECTION_METHODS = frozenset({"execute", "exec_driver_sql", "commit", "rollback", "close", "scalar", "scalars"})
_METADATA_METHODS = frozenset({"create_all", "drop_all", "reflect"})
_LOADERS = frozenset({"get", "get_one", "exec", "execute", "scalar", "scalars", "merge", "query"})

# sync driver name -> asyncio driver name (anything else is refused when literal, kept at run time)
ASYNC_DRIVERS: dict[str, str] = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+pysqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgresql+psycopg2": "postgresql+asyncpg",
    "mysql": "mysql+aiomysql",
    "mysql+pymysql": "mysql+aiomysql",
    "mysql+mysqldb": "mysql+aiomysql",
}
# already asyncio drivers: kept as they are
_ASYNC_ALREADY = frozenset({"sqlite+aiosqlite", "postgresql+asyncpg", "postgresql+psycopg", "mysql+aiomysql",
                            "mysql+asyncmy"})
_DRIVER_REQUIREMENTS = {"sqlite": "aiosqlite", "postgresql": "asyncpg", "mysql": "aiomysql"}
_SPECIFIC_REQUIREMENTS = {"postgresql+psycopg": "psycopg[binary]", "mysql+asyncmy": "asyncmy"}

URL_HELPER = "_async_database_url"
_URL_HELPER_SOURCE = f'''def {URL_HELPER}(url: str | URL) -> URL:
    """``url`` with its sync driver swapped for the asyncio one (added by asgi-migrate)."""
    url = make_url(url)
    drivers = {{
{"".join(f'        "{k}": "{v}",{chr(10)}' for k, v in ASYNC_DRIVERS.items())}    }}
    return url.set(drivername=drivers.get(url.drivername, url.drivername))
'''

LEGACY_QUERY_PREFIX = "legacy Query API"


def async_url_literal(url: str) -> str | None:
    """The literal URL with the asyncio driver (``sqlite:///x`` -> ``sqlite+aiosqlite:///x``), or None."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return None
    driver = scheme.lower()
    if driver in _ASYNC_ALREADY:
        return url
    new = ASYNC_DRIVERS.get(driver)
    return None if new is None else f"{new}://{rest}"


def url_requirement(url: str) -> str | None:
    """The PyPI package of the asyncio driver a (sync or async) literal URL needs."""
    driver = url.partition("://")[0].lower()
    if driver in _SPECIFIC_REQUIREMENTS:
        return _SPECIFIC_REQUIREMENTS[driver]
    new = ASYNC_DRIVERS.get(driver, driver)
    return {"sqlite+aiosqlite": "aiosqlite", "postgresql+asyncpg": "asyncpg", "mysql+aiomysql": "aiomysql"}.get(new)


def url_helper_source() -> str:
    """The run-time helper added next to ``create_async_engine`` for URLs that are not literals."""
    return _URL_HELPER_SOURCE


# --------------------------------------------------------------------------- module facts


Path = DefPath  # (name, occurrence) of each enclosing def/class from the module down


def _imports(module: cst.Module) -> dict[str, str]:
    """Local name -> qualified name, for the module's top-level (and top-level ``try``) imports."""
    names: dict[str, str] = {}

    def statements(body: Sequence[cst.BaseStatement]) -> Iterator[cst.BaseSmallStatement]:
        for stmt in body:
            if isinstance(stmt, cst.SimpleStatementLine):
                yield from stmt.body
            elif isinstance(stmt, cst.Try):
                yield from statements(stmt.body.body)

    for small in statements(module.body):
        if isinstance(small, cst.Import):
            for alias in small.names:
                dotted = get_full_name_for_node(alias.name) or ""
                if alias.asname is not None:
                    names[_asname(alias)] = dotted
                else:
                    head = dotted.split(".", 1)[0]
                    names[head] = head
        elif isinstance(small, cst.ImportFrom) and not small.relative and small.module is not None \
                and not isinstance(small.names, cst.ImportStar):
            base = get_full_name_for_node(small.module) or ""
            for alias in small.names:
                obj = get_full_name_for_node(alias.name) or ""
                names[_asname(alias) if alias.asname else obj] = f"{base}.{obj}"
    return names


def _asname(alias: cst.ImportAlias) -> str:
    assert alias.asname is not None and isinstance(alias.asname.name, cst.Name)
    return alias.asname.name.value


class _Paths(cst.CSTVisitor):
    """The path of every function (and class) of a module."""

    def __init__(self) -> None:
        self.where = DefPathStack()
        self.paths: dict[int, Path] = {}  # id(FunctionDef) -> path
        self.functions: dict[Path, cst.FunctionDef] = {}

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.where.push("class " + node.name.value)

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self.where.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        path = self.where.push(node.name.value)
        self.paths[id(node)] = path
        self.functions[path] = node

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.where.pop()


def _own_nodes(fn: cst.FunctionDef) -> Iterator[cst.CSTNode]:
    """The nodes of a function's body, not descending into nested functions, classes or lambdas."""
    stack: list[cst.CSTNode] = [fn.body]
    while stack:
        node = stack.pop()
        yield node
        for child in reversed(node.children):
            if not isinstance(child, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
                stack.append(child)


def _is_generator(fn: cst.FunctionDef) -> bool:
    return any(isinstance(n, (cst.Yield,)) for n in _own_nodes(fn))


def _target_name(target: cst.BaseAssignTargetExpression | cst.BaseExpression | None) -> str | None:
    return target.value if isinstance(target, cst.Name) else None


@dataclass
class _Facts:
    """What the target knows about the ORIGINAL module, computed once per file."""

    module: cst.Module
    imports: dict[str, str]
    paths: dict[int, Path]
    functions: dict[Path, cst.FunctionDef]
    sessionmakers: set[str] = field(default_factory=set)  # module-level names bound to sessionmaker(...)
    scoped: set[str] = field(default_factory=set)  # module-level names bound to scoped_session(...)
    engines: set[str] = field(default_factory=set)  # module-level names bound to create_engine(...)
    module_sessions: set[str] = field(default_factory=set)  # module-level names bound to Session(...)
    module_names: set[str] = field(default_factory=set)  # every name bound at module level
    session_subclasses: set[str] = field(default_factory=set)
    relationships: set[str] = field(default_factory=set)
    uses_sqlmodel: bool = False
    blocked: str = ""  # why the module's database code must stay sync as a whole ("" when it need not)
    # sessionmakers wrapped in scoped_session(...); whether every scoped_session is only defined
    # (``Session = scoped_session(SessionLocal)`` at module level, never used in the module)
    scoped_wrapped: set[str] = field(default_factory=set)
    scoped_idle: bool = False
    factories: dict[Path, str] = field(default_factory=dict)  # session factories the plan made async
    # filled by rewrite_call: per function, receiver names proven to be sessions / connections
    session_receivers: dict[Path, set[str]] = field(default_factory=dict)
    connection_receivers: dict[Path, set[str]] = field(default_factory=dict)
    with_calls: dict[Path, set[str]] = field(default_factory=dict)  # code of `with` items to make async
    dependencies: dict[Path, str] = field(default_factory=dict)  # generator -> session name it yields
    _positions: Mapping[cst.CSTNode, CodeRange] | None = None

    def qualify(self, expr: cst.BaseExpression) -> str | None:
        """``sqlmodel.Session`` for ``Session`` after ``from sqlmodel import Session``; None if local."""
        dotted = get_full_name_for_node(expr)
        if not dotted:
            return None
        head, _, rest = dotted.partition(".")
        base = self.imports.get(head)
        if base is None:
            return None
        return f"{base}.{rest}" if rest else base

    def is_session_class(self, expr: cst.BaseExpression) -> bool:
        return self.qualify(expr) in _SESSIONS

    def is_session_factory_call(self, expr: cst.BaseExpression, sessions: Iterable[str] = ()) -> bool:
        """``Session(...)``, ``SessionLocal()`` (a sessionmaker of this module) or ``SessionLocal.begin()``."""
        if not isinstance(expr, cst.Call):
            return False
        func = expr.func
        if self.is_session_class(func):
            return True
        if isinstance(func, cst.Name) and func.value in self.sessionmakers:
            return True
        return (isinstance(func, cst.Attribute) and func.attr.value == "begin" and isinstance(func.value, cst.Name)
                and func.value.value in self.sessionmakers)

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    def line(self, node: cst.CSTNode) -> int:
        """The line of a node of the original module (0 if it is not one)."""
        if self._positions is None:
            self._positions = MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(PositionProvider)
        position = self._positions.get(node)
        return position.start.line if position is not None else 0


def _facts(module: cst.Module, extra_relationships: Iterable[str]) -> _Facts:
    visitor = _Paths()
    module.visit(visitor)
    facts = _Facts(module, _imports(module), visitor.paths, visitor.functions)
    facts.uses_sqlmodel = any(q == "sqlmodel" or q.startswith("sqlmodel.") for q in facts.imports.values())
    facts.relationships = set(extra_relationships)
    facts.module_names = set(facts.imports)
    for stmt in module.body:
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            facts.module_names.add(stmt.name.value)
        if isinstance(stmt, cst.ClassDef):
            if any(facts.is_session_class(b.value) for b in stmt.bases):
                facts.session_subclasses.add(stmt.name.value)
            for small in _class_assignments(stmt):
                name, value = small
                if isinstance(value, cst.Call) and facts.qualify(value.func) in _RELATIONSHIPS \
                        and not _eager(value):
                    facts.relationships.add(name)
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            targets: list[cst.BaseExpression] = []
            value: cst.BaseExpression | None = None
            if isinstance(small, cst.Assign):
                targets, value = [t.target for t in small.targets], small.value
            elif isinstance(small, cst.AnnAssign):
                targets, value = [small.target], small.value
            for target in targets:
                name = _target_name(target)
                if name is None:
                    continue
                facts.module_names.add(name)
                if not isinstance(value, cst.Call):
                    continue
                q = facts.qualify(value.func)
                if q in _SESSIONMAKERS:
                    facts.sessionmakers.add(name)
                elif q in _SCOPED:
                    facts.scoped.add(name)
                elif q in _ENGINE_FACTORIES:
                    facts.engines.add(name)
                elif q in _SESSIONS or (isinstance(value.func, cst.Name) and value.func.value in facts.sessionmakers):
                    facts.module_sessions.add(name)
    # a sessionmaker wrapped in scoped_session elsewhere keeps its thread-local contract
    scoped = False
    scoped_calls: list[cst.Call] = []
    for call in m.findall(module, m.Call()):
        assert isinstance(call, cst.Call)
        if facts.qualify(call.func) in _SCOPED:
            scoped = True
            scoped_calls.append(call)
            for arg in call.args:
                if isinstance(arg.value, cst.Name):
                    facts.sessionmakers.discard(arg.value.value)
                    facts.scoped_wrapped.add(arg.value.value)
    facts.scoped_idle = scoped and _scoped_defined_only(module, facts, scoped_calls)
    # what keeps sync sessions on the module's engine: converting the rest would mix sync and async
    if scoped:
        facts.blocked = "scoped_session is thread-local: use async_scoped_session(scopefunc=current_task) by hand"
    elif facts.module_sessions:
        name = min(facts.module_sessions)
        facts.blocked = (f"module-level session `{name}` is shared by concurrent requests: "
                         "create one per request (async_sessionmaker) by hand")
    elif facts.session_subclasses:
        facts.blocked = f"`{min(facts.session_subclasses)}` subclasses Session: port it to AsyncSession by hand"
    return facts


def _class_assignments(cls: cst.ClassDef) -> Iterator[tuple[str, cst.BaseExpression]]:
    if not isinstance(cls.body, cst.IndentedBlock):
        return
    for stmt in cls.body.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.AnnAssign) and small.value is not None and isinstance(small.target, cst.Name):
                yield small.target.value, small.value
            elif isinstance(small, cst.Assign):
                for t in small.targets:
                    if isinstance(t.target, cst.Name):
                        yield t.target.value, small.value


def _eager(call: cst.Call) -> bool:
    """``lazy="selectin"`` (also inside ``sa_relationship_kwargs``): no lazy load on access."""
    for string in m.findall(call, m.SimpleString()):
        assert isinstance(string, cst.SimpleString)
        if string.evaluated_value in ("selectin", "joined", "subquery", "immediate"):
            return True
    return False


def _binding(fn: cst.FunctionDef, name: str) -> tuple[str, cst.BaseExpression | None] | None:
    """How ``name`` is bound in ``fn``: ("param", None), ("with", item) or ("assign", value); None if not."""
    for p in (*fn.params.posonly_params, *fn.params.params, *fn.params.kwonly_params):
        if p.name.value == name:
            return "param", None
    for star in (fn.params.star_arg, fn.params.star_kwarg):
        if isinstance(star, cst.Param) and star.name.value == name:
            return "param", None
    found: tuple[str, cst.BaseExpression | None] | None = None
    for node in _own_nodes(fn):
        if isinstance(node, cst.WithItem) and node.asname is not None and _target_name(node.asname.name) == name:
            found = found or ("with", node.item)
        elif (isinstance(node, cst.Assign) and any(_target_name(t.target) == name for t in node.targets)
              or isinstance(node, cst.AnnAssign) and _target_name(node.target) == name):
            found = found or ("assign", node.value)
        elif isinstance(node, (cst.For, cst.CompFor)) and _target_name(node.target) == name:
            found = found or ("assign", None)
    return found


# --------------------------------------------------------------------------- call sites


def _chain(call: cst.Call, method: str) -> tuple[list[cst.Call], int] | None:
    """The calls of ``a.m(x).all()`` outermost first, and the index of the innermost ``.method(...)``."""
    calls: list[cst.Call] = []
    node: cst.BaseExpression = call
    base = -1
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        calls.append(node)
        if node.func.attr.value == method:
            base = len(calls) - 1
        node = node.func.value
    return (calls, base) if base >= 0 else None


def _await_in_chain(call: cst.Call, method: str) -> cst.BaseExpression | None:
    """``await`` the innermost ``.method(...)`` of the chain: ``(await s.exec(q)).all()``."""
    found = _chain(call, method)
    if found is None:
        return None
    calls, base = found
    if base == 0:
        return awaited(call)
    inner = awaited(calls[base])
    if not inner.lpar:
        inner = inner.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    new: cst.BaseExpression = inner
    for outer in reversed(calls[:base]):
        assert isinstance(outer.func, cst.Attribute)
        new = outer.with_changes(func=outer.func.with_changes(value=new))
    return new


def _receiver(call: cst.Call, method: str) -> cst.BaseExpression | None:
    found = _chain(call, method)
    if found is None:
        return None
    calls, base = found
    func = calls[base].func
    assert isinstance(func, cst.Attribute)
    return func.value


# --------------------------------------------------------------------------- the legacy Query API

# Query methods that exist with the same meaning on a 2.0 ``Select``
_SELECT_BUILDERS = frozenset({"filter", "filter_by", "where", "order_by", "limit", "offset", "join", "outerjoin",
                              "options", "distinct", "group_by", "having", "select_from", "with_for_update",
                              "execution_options", "join_from", "prefix_with", "suffix_with"})
# ... and on the ``delete()`` / ``update()`` of one entity (``Query.delete()`` keeps only the WHERE criteria)
_DML_BUILDERS = frozenset({"filter", "filter_by", "where"})
# Query methods that run the statement
_QUERY_TERMINALS = frozenset({"all", "first", "one", "one_or_none", "scalar", "count", "get", "delete", "update"})
# rows of a result: single ORM entity -> ``.scalars()`` first (what Query does)
_ROW_METHODS = {"all": "all", "first": "first", "one": "one", "one_or_none": "one_or_none",
                "scalar": "scalar_one_or_none"}
_SCALAR_METHODS = {"all": "all", "first": "first", "one": "one", "one_or_none": "one_or_none",
                   "scalar": "one_or_none"}  # Query.scalar() is one_or_none() on one entity
_SQL_NAMES: dict[str, frozenset[str]] = {
    "select": frozenset({"sqlalchemy.select", "sqlalchemy.sql.select", "sqlalchemy.sql.expression.select",
                         "sqlalchemy.future.select"}),
    "func": frozenset({"sqlalchemy.func", "sqlalchemy.sql.func", "sqlalchemy.sql.expression.func",
                       "sqlalchemy.sql.functions.func", "sqlmodel.func"}),
    "delete": frozenset({"sqlalchemy.delete", "sqlalchemy.sql.delete", "sqlalchemy.sql.expression.delete",
                         "sqlmodel.delete"}),
    "update": frozenset({"sqlalchemy.update", "sqlalchemy.sql.update", "sqlalchemy.sql.expression.update",
                         "sqlmodel.update"}),
}
_SQLMODEL_SELECT = frozenset({"sqlmodel.select", "sqlmodel.sql.expression.select"})
_EAGER_JOINS = ("joinedload", "contains_eager", "subqueryload")


def _query_refusal(detail: str) -> Refusal:
    return Refusal(f"{LEGACY_QUERY_PREFIX}: {detail}")


@dataclass
class _QueryChain:
    session: cst.BaseExpression  # `db` of db.query(...)
    query: cst.Call  # the db.query(...) call
    builders: list[cst.Call]  # innermost first
    terminal: cst.Call | None  # .first() ... (None: the query is not run here)


def _query_chain(call: cst.Call) -> _QueryChain | None:
    """``db.query(X).filter(...).first()`` split; None when no ``.query(...)`` call starts the chain."""
    calls: list[cst.Call] = []  # outermost first
    node: cst.BaseExpression = call
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        calls.append(node)
        if node.func.attr.value == "query":
            break
        node = node.func.value
    if not calls or not isinstance(calls[-1].func, cst.Attribute) or calls[-1].func.attr.value != "query":
        return None
    query = calls[-1]
    rest = list(reversed(calls[:-1]))  # innermost first
    terminal = rest.pop() if rest and _method(rest[-1]) in _QUERY_TERMINALS else None
    assert isinstance(query.func, cst.Attribute)
    return _QueryChain(query.func.value, query, rest, terminal)


def _method(call: cst.Call) -> str:
    return call.func.attr.value if isinstance(call.func, cst.Attribute) else ""


def _entity_kind(facts: _Facts, expr: cst.BaseExpression) -> str:
    """"entity" (a mapped class, ``aliased(X)``), "column" (``X.a``, ``func.count(...)``) or "" (unknown)."""
    if isinstance(expr, cst.Name):
        return "entity" if expr.value[:1].isupper() else ""  # User; not `model` (a parameter: unknown)
    if isinstance(expr, cst.Attribute):
        # models.User (a module attribute) or User.name (a column)
        root = expr.value
        if expr.attr.value[:1].isupper() and isinstance(root, cst.Name) and root.value[:1].islower():
            return "entity"
        if isinstance(root, (cst.Name, cst.Attribute)) and _entity_kind(facts, root) == "entity" \
                and not expr.attr.value[:1].isupper():
            return "column"
        return ""
    if isinstance(expr, cst.Call):
        name = get_full_name_for_node(expr.func) or ""
        head, _, last = name.rpartition(".")
        if last == "aliased" and not head or facts.qualify(expr.func) in ("sqlalchemy.orm.aliased",):
            return "entity" if expr.args and _entity_kind(facts, expr.args[0].value) == "entity" else ""
        if head == "func" or head.endswith(".func") or last in ("label", "distinct", "cast", "literal", "coalesce",
                                                                "count", "max", "min", "sum"):
            return "column"
    return ""


def _foreign_entities(chain: _QueryChain, entity_names: set[str]) -> bool:
    """Whether the WHERE criteria name another mapped class (an implicit join that repeats rows)."""
    for builder in chain.builders:
        if _method(builder) not in ("filter", "where", "having"):
            continue
        for attr in m.findall(builder, m.Attribute(value=m.Name())):
            assert isinstance(attr, cst.Attribute) and isinstance(attr.value, cst.Name)
            root = attr.value.value
            if root[:1].isupper() and root not in entity_names:
                return True
    return False


def _free_names(module: cst.Module) -> set[str]:
    """Every name used free-standing in the module (not an attribute or a keyword argument)."""
    out: set[str] = set()

    class Visitor(cst.CSTVisitor):
        def visit_Attribute(self, node: cst.Attribute) -> bool:
            node.value.visit(self)
            return False

        def visit_Arg(self, node: cst.Arg) -> bool:
            node.value.visit(self)
            return False

        def visit_Name(self, node: cst.Name) -> None:
            out.add(node.value)

    module.visit(Visitor())
    return out


class _LegacyQuery:
    """``db.query(...)...`` -> a 2.0 statement executed on the AsyncSession (exact translations only)."""

    def __init__(self, facts: _Facts, ctx: TargetContext, fn: cst.FunctionDef | None) -> None:
        self.facts = facts
        self.ctx = ctx
        self.fn = fn  # the enclosing function (original module)
        codes = facts.module.code
        self.sqlmodel = facts.uses_sqlmodel and (
            any(q in ("sqlmodel.Session", "sqlmodel.orm.session.Session") for q in facts.imports.values())
            or ".exec(" in codes)
        self._free: set[str] | None = None

    # -- names

    def name(self, obj: str) -> tuple[cst.BaseExpression, str] | Refusal:
        """The expression naming ``sqlalchemy.<obj>`` (or ``sqlmodel.select``) here, and its qualified name;
        imports it when the module does not have it yet."""
        facts = self.facts
        want_sqlmodel = obj == "select" and self.sqlmodel
        accepted = _SQL_NAMES[obj] | (_SQLMODEL_SELECT if obj == "select" else frozenset())
        for local, q in sorted(facts.imports.items()):
            if q in accepted and "." not in local:
                return cst.Name(local), q
        modules = ("sqlmodel", "sqlalchemy") if want_sqlmodel else ("sqlalchemy",)
        for module_name in modules:
            for local, q in sorted(facts.imports.items()):
                if q == module_name:  # import sqlalchemy as sa: sa.select
                    return cst.Attribute(cst.Name(local), cst.Name(obj)), f"{q}.{obj}"
        if self._free is None:
            self._free = _free_names(facts.module)
        module_name = "sqlmodel" if want_sqlmodel else "sqlalchemy"
        for local in (obj, f"sa_{obj}"):
            if local not in self._free:
                self.ctx.add_import(module_name, obj, None if local == obj else local)
                return cst.Name(local), f"{module_name}.{obj}"
        return _query_refusal(f"`{obj}` and `sa_{obj}` are both taken in this module: import "
                              f"{module_name}.{obj} under another name and rewrite by hand")

    # -- the rewrite

    def rewrite(self, call: cst.Call, original: cst.Call) -> cst.BaseExpression | Refusal:
        chain = _query_chain(call)
        if chain is None:
            root: cst.BaseExpression = call
            while isinstance(root, cst.Call) and isinstance(root.func, cst.Attribute):
                root = root.func.value
            if isinstance(root, cst.Name):
                return _query_refusal(f"the Query in `{root.value}` was built before this call (a Query kept in a "
                                      "variable): build it with select() and execute it on the session by hand")
            return _query_refusal("a Query built elsewhere (an attribute, a helper) is run here: build it with "
                                  "select() and execute it on the session by hand")
        if chain.terminal is None:
            return _query_refusal(self._not_run_here(original))
        for builder in chain.builders:
            if _method(builder) not in _SELECT_BUILDERS:
                return _query_refusal(f"Query.{_method(builder)}() has no exact select() equivalent in this "
                                      "rewrite: port the query by hand")
        if any(a.star or a.keyword is not None for a in chain.query.args) or not chain.query.args:
            return _query_refusal("query() with no entities, *args or keywords: port the query by hand")
        kinds = [_entity_kind(self.facts, a.value) for a in chain.query.args]
        if "" in kinds:
            unknown = next(a.value for a, k in zip(chain.query.args, kinds) if not k)
            return _query_refusal(f"cannot tell whether `{self.facts.code(unknown)}` is an entity or a column "
                                  "(the result shape depends on it): port the query by hand")
        terminal = _method(chain.terminal)
        if terminal == "get":
            result = self._get(chain, kinds)
        elif terminal in ("delete", "update"):
            result = self._dml(chain, kinds, terminal, original)
        elif chain.terminal.args:
            return _query_refusal(f"Query.{terminal}() with arguments: port the query by hand")
        else:
            result = self._select(chain, kinds, terminal)
        if isinstance(result, Refusal) or not call.lpar:
            return result
        return result.with_changes(lpar=[*call.lpar, *result.lpar], rpar=[*result.rpar, *call.rpar])

    def _not_run_here(self, original: cst.Call) -> str:
        """Why a query that is not run in the same expression is refused (where it goes)."""
        node: cst.CSTNode = original
        parent = self.ctx.parent(node)
        while isinstance(parent, cst.Attribute) and parent.value is node:
            grand = self.ctx.parent(parent)
            if not isinstance(grand, cst.Call) or grand.func is not parent:
                return f"Query.{parent.attr.value} read: port the query by hand"
            if parent.attr.value not in _SELECT_BUILDERS:
                return (f"Query.{parent.attr.value}() has no exact select() equivalent in this rewrite: port the "
                        "query by hand")
            node, parent = grand, self.ctx.parent(grand)
        if isinstance(parent, (cst.Assign, cst.AnnAssign, cst.AugAssign, cst.NamedExpr)):
            return ("the Query is stored in a variable and run later (built up over several statements): "
                    "build it with select() and execute it on the session by hand")
        if isinstance(parent, (cst.For, cst.CompFor)):
            return ("the Query is iterated directly: iterate "
                    "`(await session.execute(select(...))).scalars()` by hand")
        if isinstance(parent, (cst.Return, cst.Yield)):
            return "the Query is returned to the caller, which runs it: port the query and its callers by hand"
        if isinstance(parent, cst.Arg):
            return "the Query is passed to a function (or used inside a SQL expression): port it by hand"
        return "the Query is not run in this expression: port it by hand"

    def _execute(self, chain: _QueryChain, stmt: cst.BaseExpression,
                 options: Sequence[cst.Arg] = ()) -> cst.Await:
        method = "exec" if self.sqlmodel else "execute"
        first = cst.Arg(stmt, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")) if options else
                        cst.MaybeSentinel.DEFAULT)
        run = cst.Call(cst.Attribute(chain.session, cst.Name(method)), [first, *options])
        return cst.Await(run, lpar=[cst.LeftParen()], rpar=[cst.RightParen()])

    @staticmethod
    def _statement(chain: _QueryChain, head: cst.BaseExpression,
                   builders: Sequence[cst.Call]) -> cst.BaseExpression:
        """``head(<the query's arguments>)`` with the builder calls re-applied in order, keeping their layout."""
        stmt: cst.BaseExpression = chain.query.with_changes(func=head, lpar=(), rpar=())
        for builder in builders:
            assert isinstance(builder.func, cst.Attribute)
            stmt = builder.with_changes(func=builder.func.with_changes(value=stmt), lpar=(), rpar=())
        return stmt

    def _unique(self, chain: _QueryChain, kinds: Sequence[str], terminal: str) -> bool:
        """Query de-duplicates rows holding ORM entities; a 2.0 result needs ``.unique()`` for that when
        the statement can repeat them (joins, joined eager loads)."""
        if "entity" not in kinds:
            return False
        eager = any(isinstance(n, cst.Name) and n.value in _EAGER_JOINS or
                    isinstance(n, cst.Attribute) and n.attr.value in _EAGER_JOINS
                    for b in chain.builders if _method(b) == "options" for n in m.findall(b, m.Name() | m.Attribute()))
        if eager:
            return True
        if terminal == "first":
            return False  # LIMIT 1: one row
        if len(kinds) > 1 and "column" not in kinds:
            return True  # several entities: a cross product or a join
        if any(_method(b) in ("join", "outerjoin", "select_from", "join_from") for b in chain.builders):
            return True
        names = {a.value.value for a in chain.query.args if isinstance(a.value, cst.Name)}
        if self.fn is not None and m.findall(self.fn, m.Call(func=m.Name("aliased"))):
            return True  # an aliased entity in the criteria joins implicitly
        return _foreign_entities(chain, names)

    def _select(self, chain: _QueryChain, kinds: Sequence[str], terminal: str) -> cst.BaseExpression | Refusal:
        select = self.name("select")
        if isinstance(select, Refusal):
            return select
        head, q = select
        auto_scalars = self.sqlmodel and q in _SQLMODEL_SELECT
        single = len(kinds) == 1
        if auto_scalars and single and kinds[0] == "column":
            return _query_refusal("one column: Query returns rows, sqlmodel's select() returns scalars: "
                                  "port the query by hand")
        builders = list(chain.builders)
        if terminal == "count":
            func = self.name("func")
            if isinstance(func, Refusal):
                return func
            inner = self._statement(chain, head, builders)
            count = cst.Call(cst.Attribute(func[0], cst.Name("count")))
            stmt = cst.Call(cst.Attribute(cst.Call(head, [cst.Arg(count)]), cst.Name("select_from")),
                            [cst.Arg(cst.Call(cst.Attribute(inner, cst.Name("subquery"))))])
            result: cst.BaseExpression = self._execute(chain, stmt)
            return _call_on(result, "one" if auto_scalars else "scalar_one")
        if terminal == "first":
            assert chain.terminal is not None and isinstance(chain.terminal.func, cst.Attribute)
            limit = cst.Call(cst.Attribute(cst.Name("_"), cst.Name("limit"), dot=chain.terminal.func.dot),
                             [cst.Arg(cst.Integer("1"))])
            builders.append(limit)
        stmt = self._statement(chain, head, builders)
        result = self._execute(chain, stmt)
        scalars = single and kinds[0] == "entity"
        if scalars and not auto_scalars:
            result = _call_on(result, "scalars")
        if self._unique(chain, kinds, terminal):
            result = _call_on(result, "unique")
        if scalars:
            return _call_on(result, _SCALAR_METHODS[terminal])
        return _call_on(result, _ROW_METHODS[terminal])

    def _get(self, chain: _QueryChain, kinds: Sequence[str]) -> cst.BaseExpression | Refusal:
        assert chain.terminal is not None
        if kinds != ["entity"]:
            return _query_refusal("Query.get() needs one entity: port the query by hand")
        if any(_method(b) != "options" for b in chain.builders):
            return _query_refusal("Query.get() after filter/order criteria (which it ignores or rejects): "
                                  "port the query by hand")
        args = list(chain.terminal.args)
        if len(args) != 1 or args[0].keyword is not None or args[0].star:
            return _query_refusal("Query.get() with several arguments: port the query by hand")
        entity = chain.query.args[0].value
        new_args = [cst.Arg(entity, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
                    args[0].with_changes(comma=cst.MaybeSentinel.DEFAULT)]
        options = [a for b in chain.builders for a in b.args]
        if any(a.star or a.keyword is not None for a in options):
            return _query_refusal("Query.options() with *args or keywords before get(): port it by hand")
        if options:
            elements = [cst.Element(a.value, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
                        for a in options]
            elements[-1] = elements[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            new_args[-1] = new_args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            new_args.append(cst.Arg(cst.List(elements), keyword=cst.Name("options"),
                                    equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))))
        return cst.Await(cst.Call(cst.Attribute(chain.session, cst.Name("get")), new_args))

    def _dml(self, chain: _QueryChain, kinds: Sequence[str], terminal: str,
             original: cst.Call) -> cst.BaseExpression | Refusal:
        assert chain.terminal is not None
        if kinds != ["entity"]:
            return _query_refusal(f"Query.{terminal}() on several entities or columns: port it by hand")
        other = [_method(b) for b in chain.builders if _method(b) not in _DML_BUILDERS]
        if other:
            return _query_refusal(f"Query.{terminal}() after .{other[0]}(), which a bulk {terminal.upper()} "
                                  "cannot keep: port it by hand")
        positional = [a for a in chain.terminal.args if a.keyword is None]
        if any(a.star for a in chain.terminal.args):
            return _query_refusal(f"Query.{terminal}() with *args or **kwargs: port it by hand")
        names = ["values", "synchronize_session"] if terminal == "update" else ["synchronize_session"]
        given: dict[str, cst.BaseExpression] = {}
        for name, arg in zip(names, positional):
            given[name] = arg.value
        if len(positional) > len(names):
            return _query_refusal(f"Query.{terminal}() with {terminal}_args: port it by hand")
        for arg in chain.terminal.args:
            if arg.keyword is not None:
                if arg.keyword.value not in names:
                    return _query_refusal(f"Query.{terminal}({arg.keyword.value}=...): port it by hand")
                given[arg.keyword.value] = arg.value
        if terminal == "update" and "values" not in given:
            return _query_refusal("Query.update() without values: port it by hand")
        head = self.name(terminal)
        if isinstance(head, Refusal):
            return head
        stmt = self._statement(chain, head[0], chain.builders)
        if terminal == "update":
            stmt = cst.Call(cst.Attribute(stmt, cst.Name("values")), [cst.Arg(given["values"])])
        options: list[cst.Arg] = []
        if "synchronize_session" in given:
            options = [cst.Arg(cst.Dict([cst.DictElement(cst.SimpleString('"synchronize_session"'),
                                                         given["synchronize_session"])]),
                               keyword=cst.Name("execution_options"),
                               equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))]
        run = self._execute(chain, stmt, options)
        if isinstance(self.ctx.parent(original), cst.Expr):
            return run.with_changes(lpar=(), rpar=())  # a statement: the row count is not used
        return cst.Attribute(run, cst.Name("rowcount"))  # Query.delete()/update() return the row count


def _call_on(value: cst.BaseExpression, method: str) -> cst.Call:
    return cst.Call(cst.Attribute(value, cst.Name(method)))


def _multiline(call: cst.Call) -> bool:
    return "\n" in cst.Module([]).code_for_node(call)


# --------------------------------------------------------------------------- the target


class SqlAlchemyTarget:
    """SQLAlchemy / SQLModel sync ``Session``/``Engine`` -> ``AsyncSession``/``AsyncEngine``."""

    name = "sqlalchemy"

    def __init__(self, relationships: Iterable[str] = ()) -> None:
        # lazy relationship attribute names known project-wide (``ProjectFacts.relationships``)
        self.relationships = frozenset(relationships)
        self._files: dict[int, _Facts] = {}
        self._requirements: set[str] = {"sqlalchemy[asyncio]>=2.0"}

    @property
    def requirements(self) -> tuple[str, ...]:  # type: ignore[override]
        return tuple(sorted(self._requirements))

    def handles(self, finding: Finding) -> bool:
        return finding.code == "AM200" and finding.call.startswith("sqlalchemy.")

    # ----------------------------------------------------------------------- per-file state

    def _state(self, ctx: TargetContext) -> _Facts:
        facts = self._files.get(id(ctx))
        if facts is None or facts.module is not ctx.module:
            facts = self._files[id(ctx)] = _facts(ctx.module, self.relationships)
            approved = {f.name for f in _session_factories(facts) if not f.blocked}
            for path, fn in facts.functions.items():
                if len(path) == 1 and fn.name.value in approved and fn.asynchronous is None and ctx.is_async_after(fn):
                    facts.factories[path] = fn.name.value  # the plan made it async: every use of it is async
            if facts.factories and facts.scoped_idle:
                facts.sessionmakers |= facts.scoped_wrapped
                if facts.blocked.startswith("scoped_session"):
                    facts.blocked = ""
            facts.dependencies = _dependencies(facts, ctx)
            for path in facts.factories:
                name = _yielded_session(facts, facts.functions[path])
                if name is not None:
                    facts.dependencies[path] = name
        return facts

    def session_factories(self, source: str) -> list[SessionFactory]:
        """The session-factory generators of a module (see ``SessionFactory``): for the planner."""
        if "yield" not in source or "Session" not in source and "sessionmaker" not in source:
            return []
        try:
            module = cst.parse_module(source)
        except Exception:  # noqa: BLE001 - not parseable: nothing to convert
            return []
        return _session_factories(_facts(module, self.relationships))

    # ----------------------------------------------------------------------- rewrite_call

    def rewrite_call(self, call: cst.Call, original: cst.Call, finding: Finding,
                     ctx: TargetContext) -> cst.BaseExpression | Refusal:
        facts = self._state(ctx)
        if facts.blocked:
            return Refusal(f"{facts.blocked} (this module's database code stays sync)")
        kind, _, method = finding.call.rpartition(".")
        fn = ctx.enclosing_function(original)
        if fn is None or not ctx.is_async_after(fn):
            return Refusal("database call in a function that stays sync: the engine and session it uses are async now")
        path = facts.paths.get(id(fn), ())
        parent = ctx.parent(original)
        if kind == "sqlalchemy.orm.scoped_session":
            return Refusal("scoped_session is thread-local: use async_scoped_session(scopefunc=current_task) by hand")
        if kind == "sqlalchemy.orm.Query" or (kind == "sqlalchemy.orm.Session" and method == "query"):
            chain = _query_chain(original)
            if chain is not None:
                refused = self._check_receiver(facts, fn, chain.session, session=True)
                if refused:
                    return refused
            result = _LegacyQuery(facts, ctx, fn).rewrite(call, original)
            name = _target_name(chain.session) if chain is not None else None
            if name and not isinstance(result, Refusal):
                facts.session_receivers.setdefault(path, set()).add(name)
            return result
        if kind == "sqlalchemy.orm.Session":
            if method == "connection":
                return Refusal("Session.connection(): use `await session.connection()` and an AsyncConnection by hand")
            refused = self._check_receiver(facts, fn, _receiver(original, method), session=True)
            if refused:
                return refused
            name = _target_name(_receiver(original, method))
            if name:
                facts.session_receivers.setdefault(path, set()).add(name)
            return _await_in_chain(call, method) or Refusal(f"cannot find `.{method}(...)` in the call")
        if kind == "sqlalchemy.Result":
            return call  # the statement that produced it is awaited: the result is buffered
        if kind == "sqlalchemy.orm.sessionmaker" and method == "begin":
            if isinstance(parent, cst.WithItem):
                facts.with_calls.setdefault(path, set()).add(facts.code(original))
                return call
            return Refusal("sessionmaker.begin() outside a `with`: use `async with factory.begin() as session:`")
        if kind == "sqlalchemy.engine.Engine":
            if method in ("connect", "begin") and isinstance(parent, cst.WithItem):
                facts.with_calls.setdefault(path, set()).add(facts.code(original))
                return call
            if method == "connect":
                return awaited(call)  # AsyncConnection is awaitable: it starts the connection
            if method == "dispose":
                return awaited(call)
            if method == "begin":
                return Refusal("Engine.begin() outside a `with`: use `async with engine.begin() as conn:`")
            return Refusal(f"Engine.{method}(): no asyncio equivalent, port it by hand")
        if kind == "sqlalchemy.engine.Connection" and method in _CONNECTION_METHODS:
            refused = self._check_receiver(facts, fn, _receiver(original, method), session=False)
            if refused:
                return refused
            name = _target_name(_receiver(original, method))
            if name:
                facts.connection_receivers.setdefault(path, set()).add(name)
            return _await_in_chain(call, method) or Refusal(f"cannot find `.{method}(...)` in the call")
        if kind == "sqlalchemy.MetaData" and method in _METADATA_METHODS:
            if isinstance(parent, cst.Expr) and _bind_arg(original) is not None:
                return call  # a statement: rewrite_module turns it into `async with engine.begin()`
            return Refusal(f"MetaData.{method}() inside an expression: use "
                           f"`async with engine.begin() as conn: await conn.run_sync(metadata.{method})`")
        return Refusal(f"{finding.call}: no asyncio rewrite known")

    def _check_receiver(self, facts: _Facts, fn: cst.FunctionDef, receiver: cst.BaseExpression | None,
                        session: bool) -> Refusal | None:
        name = _target_name(receiver)
        if name is None:
            return None  # self.session, get_session().x: typed by the analysis, made async where created
        bound = _binding(fn, name)
        if bound is None:
            if name in facts.module_sessions or name in facts.module_names:
                what = "session" if session else "connection"
                return Refusal(f"module-level {what} `{name}` is shared by concurrent requests: "
                               "create one per request (async_sessionmaker) by hand")
            return None
        how, value = bound
        if isinstance(value, cst.Call):
            func = value.func
            if isinstance(func, cst.Name) and func.value in facts.session_subclasses:
                return Refusal(f"`{func.value}` subclasses Session: port it to AsyncSession by hand")
            if facts.qualify(func) in _SCOPED or (isinstance(func, cst.Name) and func.value in facts.scoped):
                return Refusal("scoped_session is thread-local: use async_scoped_session by hand")
            if session and how == "assign" and isinstance(func, cst.Attribute) and func.attr.value == "connection":
                return Refusal("Session.connection(): port the connection to AsyncConnection by hand")
        return None

    # ----------------------------------------------------------------------- rewrite_module

    def rewrite_module(self, module: cst.Module, ctx: TargetContext) -> cst.Module:
        facts = self._state(ctx)
        try:
            if facts.blocked:
                return module  # every site was refused with the reason
            self._notes(facts, ctx)
            rewriter = _Rewriter(facts, ctx)
            new = module.visit(rewriter)
            for note in rewriter.notes:
                ctx.note(*note)
            self._requirements |= rewriter.requirements
            if not rewriter.changed:
                return module
            async_session = SQLMODEL_ASYNC_SESSION if facts.uses_sqlmodel else SQLALCHEMY_ASYNCIO
            for name in sorted(rewriter.added):
                if name == "AsyncSession":
                    ctx.add_import(async_session, "AsyncSession")
                elif name in ("create_async_engine", "async_sessionmaker"):
                    ctx.add_import(SQLALCHEMY_ASYNCIO, name)
                elif name in ("URL", "make_url"):
                    ctx.add_import("sqlalchemy.engine", name)
                elif name == "asynccontextmanager":
                    ctx.add_import("contextlib", name)
                elif name.startswith("Async"):
                    module_name = rewriter.iterator_modules.get(name, "collections.abc")
                    ctx.add_import(module_name, name)
            for module_name, obj, asname in sorted(rewriter.replaced, key=str):
                ctx.drop_import(module_name, obj, asname)
            return new
        finally:
            self._files.pop(id(ctx), None)

    def _notes(self, facts: _Facts, ctx: TargetContext) -> None:
        """Review notes computed on the original module (its line numbers are the user's)."""
        line = facts.line
        if facts.factories and facts.scoped_idle:
            for stmt in facts.module.body:
                if isinstance(stmt, cst.SimpleStatementLine) and isinstance(stmt.body[0], cst.Assign) \
                        and isinstance(stmt.body[0].value, cst.Call) \
                        and facts.qualify(stmt.body[0].value.func) in _SCOPED:
                    ctx.note(line(stmt), f"`{facts.code(stmt.body[0]).strip()}` is left as it is (used nowhere): "
                                         "its sessionmaker makes AsyncSession objects now; a thread-local registry "
                                         "does not fit asyncio: use async_scoped_session(..., "
                                         "scopefunc=asyncio.current_task) if you need one")
        for path, fn in facts.functions.items():
            if ctx.is_async_after(fn) or path in facts.dependencies:
                self._lazy_loads(facts, path, fn, ctx, line)
                continue
            for node in _own_nodes(fn):
                if isinstance(node, cst.Call) and facts.is_session_factory_call(node):
                    ctx.note(line(node), f"session in `{fn.name.value}`, which stays sync: it breaks once the "
                                         "engine is async (make the function async, or keep a sync engine for it)")

    def _lazy_loads(self, facts: _Facts, path: Path, fn: cst.FunctionDef, ctx: TargetContext,
                    line: Callable[[cst.CSTNode], int]) -> None:
        if not facts.relationships:
            return
        sessions = set(facts.session_receivers.get(path, ())) | _session_names(facts, fn)
        loaded: set[str] = set()
        seen: set[tuple[int, str]] = set()
        for node in _own_nodes(fn):
            if isinstance(node, (cst.Assign, cst.For)):
                value = node.value if isinstance(node, cst.Assign) else node.iter
                targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
                if _loads(value, sessions):
                    loaded |= {n for t in targets if (n := _target_name(t))}
            elif isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) \
                    and node.value.value in loaded and node.attr.value in facts.relationships:
                key = (line(node), f"{node.value.value}.{node.attr.value}")
                if key not in seen:
                    seen.add(key)
                    ctx.note(key[0], f"lazy relationship `{key[1]}` read after an async session call raises "
                                     f"MissingGreenlet: load it eagerly (.options(selectinload(...{node.attr.value})))"
                                     " or `await session.refresh(obj, [...])`")


def _session_names(facts: _Facts, fn: cst.FunctionDef) -> set[str]:
    """Names bound to sessions in ``fn``: ``with Session(...) as s``, ``s = factory()``, ``s: Session``."""
    names: set[str] = set()
    for node in _own_nodes(fn):
        if isinstance(node, cst.WithItem) and node.asname is not None and facts.is_session_factory_call(node.item):
            names |= {n for n in [_target_name(node.asname.name)] if n}
        elif isinstance(node, cst.Assign) and facts.is_session_factory_call(node.value):
            names |= {n for t in node.targets if (n := _target_name(t.target))}
    for p in (*fn.params.posonly_params, *fn.params.params, *fn.params.kwonly_params):
        if p.annotation is not None and _mentions_session(facts, p.annotation.annotation):
            names.add(p.name.value)
    return names


def _mentions_session(facts: _Facts, expr: cst.BaseExpression) -> bool:
    return any(facts.is_session_class(n) for n in m.findall(expr, m.Name() | m.Attribute()))  # type: ignore[arg-type]


def _loads(expr: cst.BaseExpression, sessions: set[str]) -> bool:
    for call in m.findall(expr, m.Call(func=m.Attribute())):
        assert isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
        found = _chain(call, call.func.attr.value)
        inner = call
        while isinstance(inner.func, cst.Attribute) and isinstance(inner.func.value, cst.Call) \
                and isinstance(inner.func.value.func, cst.Attribute):
            inner = inner.func.value
        assert isinstance(inner.func, cst.Attribute)
        if found and _target_name(inner.func.value) in sessions and inner.func.attr.value in _LOADERS:
            return True
    return False


def _bind_arg(call: cst.Call) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "bind":
            return arg.value
    first = call.args[0] if call.args else None
    return first.value if first is not None and first.keyword is None and not first.star else None


# --------------------------------------------------------------------------- dependency generators


def _dependencies(facts: _Facts, ctx: TargetContext) -> dict[Path, str]:
    """Sync generators that only open a session and yield it (FastAPI dependencies): path -> session name."""
    referenced: dict[str, list[bool]] = {}
    for node in m.findall(facts.module, m.Call()):
        assert isinstance(node, cst.Call)
        in_depends = facts.qualify(node.func) in _DEPENDS
        for arg in node.args:
            if isinstance(arg.value, cst.Name):
                referenced.setdefault(arg.value.value, []).append(in_depends)
    for node in m.findall(facts.module, m.Call(func=m.Name())):
        assert isinstance(node, cst.Call) and isinstance(node.func, cst.Name)
        referenced.setdefault(node.func.value, []).append(False)
    out: dict[Path, str] = {}
    for path, fn in facts.functions.items():
        if fn.asynchronous is not None or fn.decorators or not _is_generator(fn):
            continue
        if not all(referenced.get(fn.name.value, [])):
            continue  # called directly (next(get_session()), with ...): its callers would need changes
        name = _yielded_session(facts, fn)
        if name is not None:
            out[path] = name
    return out


def _yielded_session(facts: _Facts, fn: cst.FunctionDef) -> str | None:
    """The session name when ``fn``'s only work is opening a session, yielding it and closing it."""
    annotated = fn.returns is not None and _mentions_session(facts, fn.returns.annotation)
    session: str | None = None
    factories: set[int] = set()
    for node in _own_nodes(fn):
        if isinstance(node, cst.WithItem) and node.asname is not None:
            if not (facts.is_session_factory_call(node.item) or (annotated and isinstance(node.item, cst.Call)
                                                                and isinstance(node.item.func, cst.Name))):
                return None
            session = session or _target_name(node.asname.name)
            factories.add(id(node.item))
        elif isinstance(node, cst.Assign) and isinstance(node.value, cst.Call) and len(node.targets) == 1 and (
                facts.is_session_factory_call(node.value) or (annotated and isinstance(node.value.func, cst.Name))):
            session = session or _target_name(node.targets[0].target)
            factories.add(id(node.value))
    if session is None:
        return None
    yields = [n for n in _own_nodes(fn) if isinstance(n, cst.Yield)]
    if len(yields) != 1 or _target_name(yields[0].value) != session:  # type: ignore[arg-type]
        return None
    for node in _own_nodes(fn):
        if isinstance(node, cst.Call) and id(node) not in factories:
            func = node.func
            if not (isinstance(func, cst.Attribute) and _target_name(func.value) == session
                    and func.attr.value in _ASYNC_SESSION_METHODS | _SYNC_SESSION_METHODS):
                return None  # other work: the driver decides about it
        if isinstance(node, cst.WithItem) and node.asname is None:
            return None
    return session


# --------------------------------------------------------------------------- session factories

_CONTEXTMANAGERS = frozenset({"contextlib.contextmanager"})
_FACTORY_WRAPPERS = _SESSIONMAKERS | _SCOPED | _SESSIONS | _CONTEXTMANAGERS


@dataclass(frozen=True)
class SessionFactory:
    """A sync generator of a module that only opens a session, yields it and closes it (``get_session``), which
    the target can turn into an async generator (``async_sessionmaker`` sessions, ``asynccontextmanager``).

    The planner converts it only when every use of it, of its aliases and of ``objects`` (the engines and
    sessionmakers the module rewrite converts with it) is async after the rewrite, and ``scoped`` (names bound
    to ``scoped_session(...)`` over those sessionmakers, left as they are) is used nowhere; ``blocked``: why it
    cannot be converted whatever its uses ("" when it can).
    """

    line: int  # of the ``def``
    name: str
    decorated: bool  # ``@contextmanager``: called in ``with`` statements
    aliases: tuple[tuple[str, int], ...] = ()  # (name, line) of ``get_db = contextmanager(get_session)``
    objects: tuple[str, ...] = ()
    scoped: tuple[str, ...] = ()
    blocked: str = ""


def _scoped_defined_only(module: cst.Module, facts: _Facts, calls: Sequence[cst.Call]) -> bool:
    """Whether every ``scoped_session(...)`` is the value of a top-level ``Name = scoped_session(...)`` and the
    name is not used anywhere else in the module."""
    names: list[str] = []
    for call in calls:
        bound = None
        for stmt in module.body:
            if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 \
                    and isinstance(stmt.body[0], cst.Assign) and stmt.body[0].value is call \
                    and len(stmt.body[0].targets) == 1:
                bound = _target_name(stmt.body[0].targets[0].target)
        if bound is None:
            return False
        names.append(bound)
    loads = _name_counts(module)
    return all(loads.get(n, 0) == names.count(n) for n in names)


def _name_counts(node: cst.CSTNode) -> dict[str, int]:
    """How often each name occurs free-standing (not as an attribute or a keyword argument name)."""
    out: dict[str, int] = {}

    class Visitor(cst.CSTVisitor):
        def visit_Attribute(self, node: cst.Attribute) -> bool:
            node.value.visit(self)
            return False

        def visit_Arg(self, node: cst.Arg) -> bool:
            node.value.visit(self)
            return False

        def visit_Name(self, node: cst.Name) -> None:
            out[node.value] = out.get(node.value, 0) + 1

    node.visit(Visitor())
    return out


def _module_level(module: cst.Module) -> Iterator[cst.CSTNode]:
    """Every node run at import time: module statements (through if/try/with/for), class bodies, decorators and
    default values; not function bodies."""
    stack: list[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, cst.FunctionDef):
            stack.extend(d for d in node.decorators)
            stack.extend(p.default for p in (*node.params.params, *node.params.kwonly_params,
                                             *node.params.posonly_params) if p.default is not None)
            continue
        stack.extend(reversed(node.children))


def _is_contextmanager(facts: _Facts, expr: cst.BaseExpression) -> bool:
    return facts.qualify(expr) in _CONTEXTMANAGERS


def _session_factories(facts: _Facts) -> list[SessionFactory]:
    module = facts.module
    parents: dict[int, cst.CSTNode] = {}
    nodes = list(_module_level(module))
    for node in nodes:
        for child in node.children:
            parents[id(child)] = node
    makers = facts.sessionmakers | (facts.scoped_wrapped if facts.scoped_idle else set())
    # module-level objects the module rewrite converts: engines and sessionmakers (also inside if/try)
    objects: set[str] = set()
    scoped: set[str] = set()
    creator = ""
    for node in nodes:
        if isinstance(node, cst.Assign) and isinstance(node.value, cst.Call) and len(node.targets) == 1:
            name = _target_name(node.targets[0].target)
            q = facts.qualify(node.value.func)
            if name is None:
                continue
            if q in _ENGINE_FACTORIES or q in _SESSIONMAKERS:
                objects.add(name)
                hooks = [a.keyword.value for a in node.value.args
                         if a.keyword is not None and a.keyword.value in ("creator", "module")]
                if q in _ENGINE_FACTORIES and hooks:
                    creator = creator or (f"`create_engine(..., {hooks[0]}=...)` "
                                          f"(line {facts.line(node.value)}) makes sync DBAPI connections: port "
                                          "the engine to an asyncio driver by hand")
            elif q in _SCOPED:
                scoped.add(name)
    out: list[SessionFactory] = []
    sessionmakers_saved = facts.sessionmakers
    facts.sessionmakers = makers
    try:
        for path, fn in facts.functions.items():
            if len(path) != 1 or fn.asynchronous is not None or not _is_generator(fn):
                continue
            decorators = [d.decorator for d in fn.decorators]
            if len(decorators) > 1 or decorators and not _is_contextmanager(facts, decorators[0]):
                continue
            if _yielded_session(facts, fn) is None:
                continue
            name = fn.name.value
            aliases: list[tuple[str, int]] = []
            blocked = ""
            for node in nodes:
                if isinstance(node, cst.Name) and node.value == name and parents.get(id(node)) is not fn:
                    parent = parents.get(id(node))
                    call = parents.get(id(parent)) if isinstance(parent, cst.Arg) else None
                    assign = parents.get(id(call)) if call is not None else None
                    if isinstance(call, cst.Call) and facts.qualify(call.func) in _DEPENDS:
                        continue
                    if isinstance(call, cst.Call) and _is_contextmanager(facts, call.func) and not decorators \
                            and isinstance(assign, cst.Assign) and len(assign.targets) == 1 \
                            and (alias := _target_name(assign.targets[0].target)) is not None:
                        aliases.append((alias, facts.line(assign)))
                        continue
                    if isinstance(parent, cst.Call) and parent.func is node or isinstance(parent, cst.Import) \
                            or isinstance(parent, (cst.ImportAlias,)):
                        continue
                    blocked = blocked or (f"`{name}` is used at import time (line {facts.line(node)}): "
                                          "it must stay a sync generator")
            for node in nodes:  # engines and sessionmakers used at import time other than to build sessions
                if isinstance(node, cst.Name) and node.value in objects:
                    parent = parents.get(id(node))
                    call = parents.get(id(parent)) if isinstance(parent, cst.Arg) else None
                    if isinstance(parent, cst.AssignTarget) or (
                            isinstance(call, cst.Call) and facts.qualify(call.func) in _FACTORY_WRAPPERS):
                        continue
                    where = next((n for n in [call, parent] if isinstance(n, cst.Call)), node)
                    blocked = blocked or (f"`{node.value}` is used at import time (line {facts.line(node)}: "
                                          f"`{facts.code(where)[:60]}`), which the async rewrite does not cover: "
                                          "port it by hand (an AsyncEngine takes event listeners on `.sync_engine`)")
            if not blocked and facts.blocked and not (facts.scoped_idle and facts.blocked.startswith("scoped")):
                blocked = facts.blocked
            out.append(SessionFactory(facts.line(fn.name), name, bool(decorators), tuple(aliases),
                                      tuple(sorted(objects)), tuple(sorted(scoped)), blocked or creator))
    finally:
        facts.sessionmakers = sessionmakers_saved
    return out


# --------------------------------------------------------------------------- the module rewriter


class _Rewriter(cst.CSTTransformer):
    def __init__(self, facts: _Facts, ctx: TargetContext) -> None:
        self.facts = facts
        self.ctx = ctx
        self.where = DefPathStack()
        self.fn_async: list[bool] = []  # per enclosing function: async after the rewrite
        self.fn_paths: list[Path] = []
        self.scoped_depth = 0
        self.changed = False
        self.added: set[str] = set()  # names to import
        self.replaced: set[tuple[str, str, str | None]] = set()  # (module, obj, asname) maybe unused now
        self.iterator_modules: dict[str, str] = {}
        self.requirements: set[str] = set()
        self.notes: list[tuple[int, str]] = []
        self.needs_helper = False

    # -- bookkeeping

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.where.push("class " + node.name.value)

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        self.where.pop()
        return updated

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        path = self.where.push(node.name.value)
        orig = self.facts.functions.get(path)
        is_async = node.asynchronous is not None or path in self.facts.dependencies \
            or (orig is not None and self.ctx.is_async_after(orig))
        self.fn_async.append(is_async)
        self.fn_paths.append(path)

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        path = self.fn_paths.pop()
        is_async = self.fn_async.pop()
        self.where.pop()
        if path in self.facts.dependencies and updated.asynchronous is None:
            updated = updated.with_changes(asynchronous=cst.Asynchronous(), decorators=[
                d.with_changes(decorator=self._async_contextmanager(d.decorator))
                if _is_contextmanager(self.facts, d.decorator) else d for d in updated.decorators])
            if updated.returns is not None:
                updated = updated.with_changes(returns=updated.returns.with_changes(
                    annotation=self._async_iterator(updated.returns.annotation)))
            self.changed = True
        if is_async:
            params = updated.params
            new_params = params.with_changes(
                params=[self._param(p) for p in params.params],
                posonly_params=[self._param(p) for p in params.posonly_params],
                kwonly_params=[self._param(p) for p in params.kwonly_params])
            if not new_params.deep_equals(params):
                updated = updated.with_changes(params=new_params)
        return updated

    @property
    def in_async(self) -> bool:
        return bool(self.fn_async) and self.fn_async[-1]

    @property
    def path(self) -> Path:
        return self.fn_paths[-1] if self.fn_paths else ()

    # -- names

    def _async_session(self) -> cst.Name:
        self.added.add("AsyncSession")
        self.changed = True
        return cst.Name("AsyncSession")

    def _replace_session_names(self, expr: cst.BaseExpression) -> cst.BaseExpression:
        facts = self.facts

        class Swap(cst.CSTTransformer):
            def __init__(self, outer: _Rewriter) -> None:
                self.outer = outer

            def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.BaseExpression:
                if facts.is_session_class(original):
                    self.outer._note_replaced(original)
                    return self.outer._async_session()
                return updated

            def visit_Attribute(self, node: cst.Attribute) -> bool:
                return not facts.is_session_class(node)

            def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.BaseExpression:
                if facts.is_session_class(original):
                    return self.outer._async_session()
                return updated

        return expr.visit(Swap(self))  # type: ignore[return-value]

    def _note_replaced(self, name: cst.BaseExpression) -> None:
        """``name`` was replaced: its ``from x import name [as alias]`` may be unused now."""
        if isinstance(name, cst.Name):
            q = self.facts.qualify(name)
            if q and "." in q:
                module_name, _, obj = q.rpartition(".")
                self.replaced.add((module_name, obj, None if obj == name.value else name.value))

    def _param(self, p: cst.Param) -> cst.Param:
        if p.annotation is None or not _mentions_session(self.facts, p.annotation.annotation):
            return p
        return p.with_changes(annotation=p.annotation.with_changes(
            annotation=self._replace_session_names(p.annotation.annotation)))

    def _async_iterator(self, ann: cst.BaseExpression) -> cst.BaseExpression:
        """``Iterator[Session]`` -> ``AsyncIterator[AsyncSession]``,
        ``Generator[S, None, None]`` -> ``AsyncGenerator[S, None]``."""
        ann = self._replace_session_names(ann)
        if not isinstance(ann, cst.Subscript):
            return ann
        q = self.facts.qualify(ann.value)
        new = _ITERATORS.get(q or "")
        if new is None or not isinstance(ann.value, cst.Name):
            return ann
        module_name = q.rpartition(".")[0]  # type: ignore[union-attr]
        self.iterator_modules[new] = module_name
        self.added.add(new)
        self._note_replaced(ann.value)
        elements = list(ann.slice)
        if new == "AsyncGenerator" and len(elements) == 3:
            elements = [elements[0], elements[1].with_changes(comma=cst.MaybeSentinel.DEFAULT)]
        return ann.with_changes(value=cst.Name(new), slice=elements)

    # -- calls

    def visit_Call(self, node: cst.Call) -> None:
        if self.facts.qualify(node.func) in _SCOPED:
            self.scoped_depth += 1

    def _async_contextmanager(self, func: cst.BaseExpression) -> cst.BaseExpression:
        """``contextmanager`` -> ``asynccontextmanager`` (``contextlib.`` kept)."""
        self.changed = True
        if isinstance(func, cst.Attribute):
            return func.with_changes(attr=cst.Name("asynccontextmanager"))
        self._note_replaced(func)
        self.added.add("asynccontextmanager")
        return cst.Name("asynccontextmanager")

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        facts = self.facts
        q = facts.qualify(original.func)
        if q in _CONTEXTMANAGERS and not self.fn_paths and len(original.args) == 1 \
                and isinstance(original.args[0].value, cst.Name) \
                and original.args[0].value.value in {p[0][0] for p in facts.factories}:
            return updated.with_changes(func=self._async_contextmanager(updated.func))
        if q in _SCOPED:
            self.scoped_depth -= 1
            return updated
        if q in _ENGINE_FACTORIES:
            return self._engine(original, updated)
        if q in _SESSIONMAKERS and not self.scoped_depth:
            return self._sessionmaker(original, updated)
        if q in _SESSIONS and self.in_async:
            self._note_replaced(original.func)
            return updated.with_changes(func=self._async_session(), args=_with_expire(updated.args))
        return updated

    def _engine(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        args = list(updated.args)
        index = next((i for i, a in enumerate(args) if a.keyword is None and not a.star), None)
        if index is None:
            index = next((i for i, a in enumerate(args) if a.keyword is not None and a.keyword.value == "url"), None)
        if index is None:
            self._note(original, "create_engine() without a URL argument: left sync")
            return updated
        url = args[index].value
        if isinstance(url, (cst.SimpleString, cst.ConcatenatedString)) and \
                isinstance(url.evaluated_value, str):
            new_url = async_url_literal(url.evaluated_value)
            if new_url is None:
                self._note(original, f"no asyncio driver known for `{url.evaluated_value.partition('://')[0]}`: "
                                     "create_engine left sync")
                return updated
            requirement = url_requirement(new_url)
            if requirement:
                self.requirements.add(requirement)
            if new_url != url.evaluated_value:
                if not isinstance(url, cst.SimpleString):
                    self._note(original, "URL split over several strings: create_engine left sync")
                    return updated
                args[index] = args[index].with_changes(value=_string_with(url, url.evaluated_value, new_url))
        else:
            self.needs_helper = True
            self.added |= {"URL", "make_url"}
            args[index] = args[index].with_changes(value=cst.Call(cst.Name(URL_HELPER), [cst.Arg(url)]))
            code = self.facts.module.code
            found = {req for key, req in _DRIVER_REQUIREMENTS.items() if key in code or
                     (key == "postgresql" and "postgres" in code)}
            if found:
                self.requirements |= found
            else:
                self._note(original, "the database URL is not a literal: install the asyncio driver of your "
                                     "database (aiosqlite, asyncpg or aiomysql)")
        self._note_replaced(original.func)
        self.added.add("create_async_engine")
        self.changed = True
        return updated.with_changes(func=cst.Name("create_async_engine"), args=args)

    def _sessionmaker(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        args = []
        for arg in updated.args:
            if arg.keyword is not None and arg.keyword.value == "class_":
                if self.facts.is_session_class(arg.value):
                    self._note_replaced(arg.value)
                    arg = arg.with_changes(value=self._async_session())
                else:
                    self._note(original, "sessionmaker(class_=...) with a custom Session class: left sync")
                    return updated
            args.append(arg)
        for arg in updated.args:
            if arg.keyword is not None and arg.keyword.value == "expire_on_commit" \
                    and not m.matches(arg.value, m.Name("False")):
                self._note(original, "expire_on_commit is not False: reading attributes after commit raises "
                                     "MissingGreenlet with AsyncSession")
        self._note_replaced(original.func)
        self.added.add("async_sessionmaker")
        self.changed = True
        return updated.with_changes(func=cst.Name("async_sessionmaker"), args=_with_expire(args))

    def _note(self, node: cst.CSTNode, reason: str) -> None:
        """A review note at ``node`` of the ORIGINAL module."""
        self.notes.append((self.facts.line(node), reason))

    # -- with statements

    def leave_With(self, original: cst.With, updated: cst.With) -> cst.BaseStatement:
        if updated.asynchronous is not None or not self.in_async:
            return updated
        sessions = set(self.facts.session_receivers.get(self.path, ())) | set(
            self.facts.connection_receivers.get(self.path, ()))
        orig_fn = self.facts.functions.get(self.path)
        if orig_fn is not None:
            sessions |= _session_names(self.facts, orig_fn)
        flags = [self._async_item(o, u, sessions) for o, u in zip(original.items, updated.items)]
        if not any(flags):
            return updated
        self.changed = True
        if all(flags):
            return updated.with_changes(asynchronous=cst.Asynchronous(
                whitespace_after=cst.SimpleWhitespace(" ")))
        # mixed items: nest, one `with` per run of items of the same kind, in their order
        groups: list[tuple[bool, list[cst.WithItem]]] = []
        for flag, item in zip(flags, updated.items):
            if groups and groups[-1][0] == flag:
                groups[-1][1].append(item)
            else:
                groups.append((flag, [item]))
        body: cst.BaseSuite = updated.body
        for index, (flag, items) in enumerate(reversed(groups)):
            items = [*items[:-1], items[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)]
            outermost = index == len(groups) - 1
            stmt = cst.With(items=items, body=body,
                            asynchronous=cst.Asynchronous() if flag else None,
                            leading_lines=updated.leading_lines if outermost else ())
            if outermost:
                return stmt
            body = cst.IndentedBlock(body=[stmt])
        return updated  # unreachable

    def _async_item(self, original: cst.WithItem, updated: cst.WithItem, sessions: set[str]) -> bool:
        facts, item = self.facts, original.item
        if facts.is_session_factory_call(item):
            return True
        if facts.code(item) in facts.with_calls.get(self.path, ()):
            return True
        if isinstance(item, cst.Call) and isinstance(item.func, cst.Attribute):
            receiver = _target_name(item.func.value)
            method = item.func.attr.value
            if method in ("begin", "begin_nested") and receiver in sessions:
                return True  # AsyncSession.begin(): an async context manager
            if method in ("connect", "begin") and receiver in facts.engines:
                return True
        # `with <anything>() as s:` where `s.commit()`... was converted: the analysis typed `s`
        name = _target_name(original.asname.name) if original.asname else None
        converted = facts.session_receivers.get(self.path, set()) | facts.connection_receivers.get(self.path, set())
        return name is not None and name in converted and isinstance(item, cst.Call) \
            and not (isinstance(item.func, cst.Name) and item.func.value in facts.session_subclasses)

    # -- statements: metadata.create_all(engine), session calls in converted dependencies

    def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine,
                                  updated: cst.SimpleStatementLine) -> cst.BaseStatement:
        if not self.in_async or len(updated.body) != 1 or not isinstance(updated.body[0], cst.Expr):
            return updated
        value = updated.body[0].value
        if self.path in self.facts.dependencies and isinstance(value, cst.Call) \
                and isinstance(value.func, cst.Attribute) \
                and _target_name(value.func.value) == self.facts.dependencies[self.path] \
                and value.func.attr.value in _ASYNC_SESSION_METHODS:
            self.changed = True
            return updated.with_changes(body=[updated.body[0].with_changes(value=awaited(value))])
        if not (isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute)
                and value.func.attr.value in _METADATA_METHODS and _is_metadata(self.facts, value.func.value)):
            return updated
        bind = _bind_arg(value)
        if bind is None:
            return updated
        rest = [a for a in value.args if a.value is not bind]
        if rest:
            rest[-1] = rest[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        method_ref = value.func
        connections = set(self.facts.connection_receivers.get(self.path, ()))
        orig_fn = self.facts.functions.get(self.path)
        bind_name = _target_name(bind)
        if orig_fn is not None and bind_name is not None:
            bound = _binding(orig_fn, bind_name)
            if bound and bound[0] == "with" and isinstance(bound[1], cst.Call) \
                    and isinstance(bound[1].func, cst.Attribute) and bound[1].func.attr.value in ("connect", "begin"):
                connections.add(bind_name)
        self.changed = True
        if bind_name in connections:
            run = cst.Call(cst.Attribute(bind, cst.Name("run_sync")), [cst.Arg(method_ref), *rest])
            return updated.with_changes(body=[updated.body[0].with_changes(value=awaited(run))])
        conn = _fresh("conn", orig_fn or self.facts.module)
        run = cst.Call(cst.Attribute(cst.Name(conn), cst.Name("run_sync")), [cst.Arg(method_ref), *rest])
        inner = cst.SimpleStatementLine(body=[cst.Expr(awaited(run))], trailing_whitespace=updated.trailing_whitespace)
        begin = cst.Call(cst.Attribute(bind, cst.Name("begin")))
        return cst.With(items=[cst.WithItem(begin, asname=cst.AsName(cst.Name(conn)))],
                        body=cst.IndentedBlock(body=[inner]), asynchronous=cst.Asynchronous(),
                        leading_lines=updated.leading_lines)

    # -- annotations

    def leave_Subscript(self, original: cst.Subscript, updated: cst.Subscript) -> cst.BaseExpression:
        """``Annotated[Session, Depends(...)]`` -> ``Annotated[AsyncSession, Depends(...)]``."""
        if self.facts.qualify(original.value) not in _ANNOTATED or len(updated.slice) < 2:
            return updated
        first = updated.slice[0].slice
        if not (isinstance(first, cst.Index) and self.facts.is_session_class(first.value)):
            return updated
        if not any(isinstance(e.slice, cst.Index) and isinstance(e.slice.value, cst.Call)
                   and self.facts.qualify(e.slice.value.func) in _DEPENDS for e in updated.slice[1:]):
            return updated
        self._note_replaced(first.value)
        elements = [updated.slice[0].with_changes(slice=first.with_changes(value=self._async_session())),
                    *updated.slice[1:]]
        return updated.with_changes(slice=elements)

    # -- the URL helper

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        if not self.needs_helper or any(isinstance(s, cst.FunctionDef) and s.name.value == URL_HELPER
                                        for s in updated.body):
            return updated
        helper = cst.parse_module(_URL_HELPER_SOURCE).body[0]
        body = list(updated.body)
        index = _after_imports(body)
        helper = helper.with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()])
        if index < len(body):
            following = body[index]
            blank = [cst.EmptyLine(), cst.EmptyLine()]
            body[index] = following.with_changes(leading_lines=[*blank, *_comments(following.leading_lines)])
        body.insert(index, helper)
        return updated.with_changes(body=body)


def _comments(lines: Sequence[cst.EmptyLine]) -> list[cst.EmptyLine]:
    """The leading lines from the first comment on (blank lines before it are replaced)."""
    for i, line in enumerate(lines):
        if line.comment is not None:
            return list(lines[i:])
    return []


def _after_imports(body: Sequence[cst.BaseStatement]) -> int:
    """Index of the first statement after the leading docstring and imports."""
    index = 0
    for i, stmt in enumerate(body):
        if isinstance(stmt, cst.SimpleStatementLine) and all(
                isinstance(s, (cst.Import, cst.ImportFrom)) or (i == 0 and m.matches(s, m.Expr(m.SimpleString())))
                for s in stmt.body) or isinstance(stmt, cst.Try) and all(
                isinstance(s, cst.SimpleStatementLine) and all(isinstance(x, (cst.Import, cst.ImportFrom))
                                                               for x in s.body) for s in stmt.body.body):
            index = i + 1
        else:
            break
    return index


def _is_metadata(facts: _Facts, expr: cst.BaseExpression) -> bool:
    """``SQLModel.metadata``, ``Base.metadata``, ``metadata`` (a MetaData)."""
    if isinstance(expr, cst.Attribute):
        return expr.attr.value == "metadata"
    if isinstance(expr, cst.Name):
        return expr.value.endswith("metadata") or facts.qualify(expr) in ("sqlalchemy.MetaData",)
    return False


def _fresh(base: str, scope: cst.CSTNode) -> str:
    used = {n.value for n in m.findall(scope, m.Name())}  # type: ignore[union-attr]
    name, i = base, 0
    while name in used:
        i += 1
        name = f"{base}{i}"
    return name


def _with_expire(args: Sequence[cst.Arg]) -> list[cst.Arg]:
    """The arguments with ``expire_on_commit=False`` unless the call sets it already."""
    args = list(args)
    if any(a.keyword is not None and a.keyword.value == "expire_on_commit" for a in args) or \
            any(a.star == "**" for a in args):
        return args
    kw = cst.Arg(cst.Name("False"), keyword=cst.Name("expire_on_commit"),
                 equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))
    if args:
        last = args[-1]
        if isinstance(last.comma, cst.Comma):  # trailing comma (often a multi-line call): keep the layout
            indent = last.comma.whitespace_after
            args.append(kw.with_changes(comma=cst.Comma(whitespace_after=indent)))
            args[-2] = last.with_changes(comma=last.comma)
            return args
        args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    args.append(kw)
    return args


def _string_with(node: cst.SimpleString, old: str, new: str) -> cst.SimpleString:
    """The literal with its text replaced, keeping the prefix and quotes."""
    quote = node.quote
    prefix = node.prefix
    body = node.value[len(prefix) + len(quote):-len(quote)]
    body = body.replace(old.partition("://")[0], new.partition("://")[0], 1)
    return node.with_changes(value=f"{prefix}{quote}{body}{quote}")


def target() -> SqlAlchemyTarget:
    """A fresh target (the registry calls this: the target keeps per-run state)."""
    return SqlAlchemyTarget()

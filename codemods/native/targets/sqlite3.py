"""sqlite3 -> aiosqlite, for connections opened and closed inside one function::

    with sqlite3.connect(path) as conn:         ->  async with aiosqlite.connect(path) as conn:
        conn.execute("insert ...", row)         ->      await conn.execute("insert ...", row)
                                                ->      await conn.commit()
    with closing(sqlite3.connect(p)) as conn:   ->  async with aiosqlite.connect(p) as conn:
    conn = sqlite3.connect(path)                ->  async with aiosqlite.connect(path) as conn:
    cur = conn.execute(q)                       ->      cur = await conn.execute(q)
    rows = cur.fetchall()                       ->      rows = await cur.fetchall()
    one = conn.execute(q).fetchone()            ->      one = await (await conn.execute(q)).fetchone()
    for row in conn.execute(q): ...             ->      async for row in await conn.execute(q): ...
    conn.commit()                               ->      await conn.commit()
    conn.close()                                ->  (the end of the `async with` block)

Semantics. sqlite3's ``with conn:`` is a *transaction*, not a close: it commits when the block
exits without an exception and rolls back when one escapes; the connection stays open. aiosqlite's
``async with`` closes the connection and never commits. The exact translation of
``with sqlite3.connect(p) as conn: BODY`` is therefore::

    async with aiosqlite.connect(p) as conn:
        BODY
        await conn.commit()

An exception escaping BODY skips the commit and closes the connection, and closing a connection
with an open transaction rolls it back: the same database state as sqlite3's rollback. When BODY can
leave the block early (``return``, ``break``, ``continue``), where sqlite3 still commits, the
commit moves into a ``finally`` after an explicit rollback on error (the commit is then a no-op)::

    async with aiosqlite.connect(p) as conn:
        try:
            BODY
        except BaseException:
            await conn.rollback()
            raise
        finally:
            await conn.commit()

The one difference left is intended: the connection is closed at the end of the block (sqlite3
leaves that to the garbage collector); a connection used after its ``with`` block is refused.
``conn = sqlite3.connect(p)`` is converted when the same block closes it later with a
``conn.close()`` statement, or right after it in a ``try`` whose ``finally`` is only ``conn.close()``:
the statements in between become the ``async with`` block (an exception now closes the connection
too, rolling back what was not committed, as the garbage collector would).

Refused, for the whole connection so nothing is half converted: module-level connections,
connections passed in or returned, used after being closed, in nested functions, lambdas or
comprehensions (``to_thread(lambda: ...)`` included), ``with conn:`` transaction blocks, methods
without a checked aiosqlite twin (``backup``, ``iterdump``, ``create_function``...), cursors used
other than by their fetch/execute methods, attributes and ``for`` loops.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst
import libcst.matchers as m

from ...analysis import Finding
from ..base import Refusal, TargetContext, awaited

_CONN_AWAITED = frozenset({"execute", "executemany", "executescript", "commit", "rollback", "close"})
_CURSOR_RESULT = frozenset({"execute", "executemany", "executescript"})  # connection methods returning a cursor
_CURSOR_AWAITED = frozenset({"execute", "executemany", "executescript", "fetchone", "fetchall", "fetchmany"})
_CONN_ATTRS = frozenset({"row_factory", "text_factory", "total_changes", "in_transaction", "isolation_level"})
_CURSOR_ATTRS = frozenset({"lastrowid", "rowcount", "description", "arraysize", "row_factory"})
_NESTED = (cst.Lambda, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp, cst.FunctionDef, cst.ClassDef)
_OFFLOADERS = frozenset({"to_thread", "run_sync", "run_in_threadpool"})


@dataclass
class _Conn:
    refusal: str = ""
    form: str = ""  # "with" | "closing" | "assign"
    cursors: set[str] = field(default_factory=set)


@dataclass
class _Function:
    qualname: str
    conns: dict[str, _Conn] = field(default_factory=dict)
    cursor_of: dict[str, str] = field(default_factory=dict)  # cursor name -> connection name


class Sqlite3Target:
    """sqlite3 connections local to a function -> aiosqlite (see the module docstring)."""

    name = "sqlite3"
    requirements: tuple[str, ...] = ("aiosqlite>=0.20",)

    def handles(self, finding: Finding) -> bool:
        if finding.code != "AM210":
            return False
        if finding.call == "sqlite3.connect":
            return not finding.chained
        return finding.call.startswith(("sqlite3.Connection.", "sqlite3.Cursor.")) \
            and finding.call.rsplit(".", 1)[1] in (_CONN_AWAITED | _CURSOR_AWAITED) \
            and all(c in ("fetchone", "fetchall", "fetchmany") for c in finding.chained)

    def rewrite_call(self, call: cst.Call, original: cst.Call, finding: Finding,
                     ctx: TargetContext) -> cst.BaseExpression | Refusal:
        if _is_offloader(original):
            return Refusal("an offloaded sqlite3 call: the connection would be used from a thread and the loop")
        fn = ctx.enclosing_function(original)
        if fn is None:
            return Refusal("a module-level connection: it would outlive the event loop; open one per use")
        state = _state(ctx)
        info = state.function(fn)
        if finding.call == "sqlite3.connect":
            name = _connect_binding(original, ctx)
            conn = info.conns.get(name or "")
            if conn is None:
                return Refusal("`sqlite3.connect(...)` is not bound by `with ... as conn`, "
                               "`with closing(...) as conn` or `conn = ...` closed later in the same block")
            if conn.refusal:
                return Refusal(conn.refusal)
            reason = _connect_args(call)
            if reason:
                return Refusal(reason)
            ctx.add_import("aiosqlite")
            ctx.drop_import("sqlite3")
            state.used = True
            return call.with_changes(func=cst.Attribute(cst.Name("aiosqlite"), cst.Name("connect")))
        root = _root(call.func)
        if not isinstance(root, cst.Name):
            return Refusal("the connection or cursor is not a plain local name")
        owner = info.cursor_of.get(root.value, root.value)
        conn = info.conns.get(owner)
        if conn is None:
            return Refusal(f"`{root.value}` is not a connection opened in this function (passed in, module-level "
                           "or from a call): convert it where it is opened")
        if conn.refusal:
            return Refusal(conn.refusal)
        state.used = True
        if finding.chained:
            func = call.func
            assert isinstance(func, cst.Attribute) and isinstance(func.value, cst.Call)
            inner = awaited(func.value)
            inner = inner.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()]) if not inner.lpar else inner
            return awaited(call.with_changes(func=func.with_changes(value=inner)))
        return awaited(call)

    def rewrite_module(self, module: cst.Module, ctx: TargetContext) -> cst.Module:
        state = _state(ctx)
        if not state.used:
            return module
        converted = {q: f for q, f in state.functions.items() if any(not c.refusal for c in f.conns.values())}
        rewriter = _ModuleRewriter(converted, ctx)
        return module.visit(rewriter)


# ---------------------------------------------------------------------------------------------
# Analysis of the original module
# ---------------------------------------------------------------------------------------------

class _State:
    def __init__(self, ctx: TargetContext) -> None:
        self.ctx = ctx
        self.functions: dict[str, _Function] = {}
        self._by_node: dict[cst.FunctionDef, _Function] = {}
        self.used = False

    def function(self, fn: cst.FunctionDef) -> _Function:
        if fn not in self._by_node:
            info = _Function(_qualname(fn, self.ctx))
            _analyse(fn, info, self.ctx)
            self._by_node[fn] = info
            if info.qualname in self.functions:  # two functions of the same name: refuse both
                for f in (info, self.functions[info.qualname]):
                    for c in f.conns.values():
                        c.refusal = c.refusal or "two functions share this qualified name"
            self.functions[info.qualname] = info
        return self._by_node[fn]


def _state(ctx: TargetContext) -> _State:
    state = ctx.__dict__.get("_sqlite3")
    if state is None:
        state = ctx.__dict__["_sqlite3"] = _State(ctx)
    return state


def _qualname(fn: cst.CSTNode | None, ctx: TargetContext) -> str:
    parts = []
    while fn is not None:
        if isinstance(fn, (cst.FunctionDef, cst.ClassDef)):
            parts.append(fn.name.value)
        fn = ctx.parent(fn)
    return ".".join(reversed(parts))


def _is_offloader(call: cst.CSTNode) -> bool:
    if not isinstance(call, cst.Call):
        return False
    head = call.func.attr.value if isinstance(call.func, cst.Attribute) else getattr(call.func, "value", "")
    return head in _OFFLOADERS


def _root(expr: cst.BaseExpression) -> cst.BaseExpression:
    while isinstance(expr, (cst.Attribute, cst.Call)):
        expr = expr.value if isinstance(expr, cst.Attribute) else expr.func
    return expr


def _is_connect(node: cst.CSTNode | None) -> bool:
    return m.matches(node, m.Call(func=m.Attribute(value=m.Name("sqlite3"), attr=m.Name("connect"))))


def _is_closing(node: cst.CSTNode | None) -> bool:
    return m.matches(node, m.Call(func=m.Name("closing") | m.Attribute(value=m.Name("contextlib"),
                                                                      attr=m.Name("closing")),
                                  args=[m.Arg(keyword=None, star="")]))


def _connect_args(call: cst.Call) -> str:
    positional = [a for a in call.args if a.keyword is None]
    if len(positional) != 1 or any(a.star for a in call.args):
        return "`sqlite3.connect` with other than one positional argument (aiosqlite takes the others by keyword)"
    if any(a.keyword is not None and a.keyword.value in ("iter_chunk_size", "loop") for a in call.args):
        return "a keyword aiosqlite.connect takes for itself"
    return ""


def _connect_binding(call: cst.Call, ctx: TargetContext) -> str | None:
    """The name a ``sqlite3.connect(...)`` call is bound to in one of the converted forms."""
    up = ctx.parent(call)
    if isinstance(up, cst.Arg) and _is_closing(ctx.parent(up)):
        up = ctx.parent(ctx.parent(up))  # type: ignore[arg-type]
    if isinstance(up, cst.WithItem) and up.asname is not None and isinstance(up.asname.name, cst.Name):
        return up.asname.name.value
    if isinstance(up, cst.Assign) and len(up.targets) == 1 and isinstance(up.targets[0].target, cst.Name):
        return up.targets[0].target.value
    return None


def _names(fn: cst.FunctionDef, name: str) -> list[cst.Name]:
    return [n for n in m.findall(fn, m.Name(name)) if isinstance(n, cst.Name)]


def _is_var(node: cst.Name, ctx: TargetContext) -> bool:
    up = ctx.parent(node)
    return not (isinstance(up, cst.Attribute) and up.attr is node or isinstance(up, cst.Arg) and up.keyword is node)


def _nested(node: cst.CSTNode, fn: cst.FunctionDef, ctx: TargetContext) -> bool:
    up = ctx.parent(node)
    while up is not None and up is not fn:
        if isinstance(up, _NESTED):
            return True
        up = ctx.parent(up)
    return False


def _inside(node: cst.CSTNode, region: list[cst.CSTNode], ctx: TargetContext) -> bool:
    up: cst.CSTNode | None = node
    while up is not None:
        if any(up is r for r in region):
            return True
        up = ctx.parent(up)
    return False


def _analyse(fn: cst.FunctionDef, info: _Function, ctx: TargetContext) -> None:
    """Find the connections opened in ``fn`` and decide each one (``_Conn.refusal``)."""
    for call in m.findall(fn.body, m.Call(func=m.Attribute(value=m.Name("sqlite3"), attr=m.Name("connect")))):
        assert isinstance(call, cst.Call)
        name = _connect_binding(call, ctx)
        if name is None or name in info.conns:
            if name is not None:
                info.conns[name].refusal = f"`{name}` is bound to more than one connection"
            continue
        conn = info.conns[name] = _Conn()
        region = _region(call, name, conn, ctx)
        if isinstance(region, str):
            conn.refusal = region
            continue
        conn.refusal = _check_uses(fn, name, conn, region, info, ctx)


def _region(call: cst.Call, name: str, conn: _Conn, ctx: TargetContext) -> list[cst.CSTNode] | str:
    """The nodes inside which the connection is open, or why there is none we can convert."""
    up = ctx.parent(call)
    if isinstance(up, cst.Arg):
        conn.form = "closing"
        up = ctx.parent(ctx.parent(up))  # type: ignore[arg-type]
    if isinstance(up, cst.WithItem):
        with_node = ctx.parent(up)
        assert isinstance(with_node, cst.With)
        if with_node.asynchronous is not None or len(with_node.items) != 1:
            return "a `with` holding other context managers besides the connection"
        conn.form = conn.form or "with"
        return [with_node.body]
    conn.form = "assign"
    stmt = ctx.parent(up)
    block = ctx.parent(stmt) if stmt is not None else None
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1 \
            or not isinstance(block, (cst.IndentedBlock, cst.Module)) or isinstance(block, cst.Module):
        return "`conn = sqlite3.connect(...)` is not a statement of its own in a function block"
    body = list(block.body)
    index = next(i for i, s in enumerate(body) if s is stmt)
    close = m.SimpleStatementLine(body=[m.Expr(m.Call(func=m.Attribute(value=m.Name(name), attr=m.Name("close")),
                                                      args=[]))])
    for j in range(index + 1, len(body)):
        if m.matches(body[j], close):
            return [stmt, *body[index + 1:j + 1]]
    nxt = body[index + 1] if index + 1 < len(body) else None
    if isinstance(nxt, cst.Try) and nxt.finalbody is not None and len(nxt.finalbody.body.body) == 1 \
            and m.matches(nxt.finalbody.body.body[0], close):  # type: ignore[union-attr]
        return [stmt, nxt]
    return f"`{name} = sqlite3.connect(...)` is not closed by a `{name}.close()` statement later in the same " \
           "block (or in the `finally` of the `try` right after it): an aiosqlite connection runs a thread " \
           "that must be closed"


def _check_uses(fn: cst.FunctionDef, name: str, conn: _Conn, region: list[cst.CSTNode], info: _Function,
                ctx: TargetContext) -> str:
    binder = None
    for node in _names(fn, name):
        if not _is_var(node, ctx):
            continue
        up = ctx.parent(node)
        if isinstance(up, (cst.AsName, cst.AssignTarget)) and binder is None:
            binder = node
            continue
        if not _inside(node, region, ctx):
            return f"`{name}` is used outside the block where it is open (sqlite3 does not close it there; " \
                   "aiosqlite does)"
        if _nested(node, fn, ctx):
            return f"`{name}` is used in a nested function, lambda or comprehension"
        reason = _conn_use(node, name, conn, info, fn, region, ctx)
        if reason:
            return reason
    return ""


def _conn_use(node: cst.Name, name: str, conn: _Conn, info: _Function, fn: cst.FunctionDef,
              region: list[cst.CSTNode], ctx: TargetContext) -> str:
    up = ctx.parent(node)
    if not (isinstance(up, cst.Attribute) and up.value is node):
        if isinstance(up, cst.WithItem):
            return f"`with {name}:` is a sqlite3 transaction block: rewrite it by hand"
        return f"`{name}` is used as a value (passed, returned or stored): it would be closed under its user"
    attr = up.attr.value
    call = ctx.parent(up)
    if not (isinstance(call, cst.Call) and call.func is up):
        if attr in _CONN_ATTRS:
            return ""
        return f"`{name}.{attr}` has no checked aiosqlite equivalent"
    if attr == "cursor":
        return _cursor_result(call, name, conn, info, fn, region, ctx)
    if attr not in _CONN_AWAITED:
        return f"`{name}.{attr}()` has no checked aiosqlite equivalent"
    if attr in _CURSOR_RESULT:
        return _cursor_result(call, name, conn, info, fn, region, ctx)
    return ""


def _cursor_result(call: cst.Call, name: str, conn: _Conn, info: _Function, fn: cst.FunctionDef,
                   region: list[cst.CSTNode], ctx: TargetContext) -> str:
    """A cursor (from ``execute``/``cursor()``) must be fetched from, iterated, or bound to a local name."""
    up = ctx.parent(call)
    if isinstance(up, cst.Expr):
        return ""
    if isinstance(up, cst.For) and up.iter is call:
        return ""
    if isinstance(up, cst.Attribute) and up.value is call:
        above = ctx.parent(up)
        if up.attr.value in _CURSOR_ATTRS and not (isinstance(above, cst.Call) and above.func is up):
            return ""
        if up.attr.value in ("fetchone", "fetchall", "fetchmany") and isinstance(above, cst.Call) \
                and above.func is up:
            return ""
        return f"`{name}.{call.func.attr.value}(...).{up.attr.value}` is not converted"  # type: ignore[attr-defined]
    if isinstance(up, cst.Assign) and len(up.targets) == 1 and isinstance(up.targets[0].target, cst.Name):
        cursor = up.targets[0].target.value
        if cursor in info.cursor_of and info.cursor_of[cursor] != name or cursor in info.conns:
            return f"the cursor name `{cursor}` is bound to several connections"
        info.cursor_of[cursor] = name
        conn.cursors.add(cursor)
        return _cursor_uses(fn, cursor, region, ctx)
    return "a cursor used other than by fetching from it, iterating it or binding it to a name"


def _result_consumed(call: cst.Call, ctx: TargetContext) -> bool:
    """``cur.execute(...)`` (which returns ``cur``) discarded, iterated, or fetched from / read right away."""
    up = ctx.parent(call)
    if isinstance(up, cst.Expr) or isinstance(up, cst.For) and up.iter is call:
        return True
    if isinstance(up, cst.Attribute) and up.value is call:
        above = ctx.parent(up)
        called = isinstance(above, cst.Call) and above.func is up
        return called and up.attr.value in ("fetchone", "fetchall", "fetchmany") \
            or not called and up.attr.value in _CURSOR_ATTRS
    return False


def _cursor_uses(fn: cst.FunctionDef, cursor: str, region: list[cst.CSTNode], ctx: TargetContext) -> str:
    for node in _names(fn, cursor):
        if not _is_var(node, ctx):
            continue
        up = ctx.parent(node)
        if isinstance(up, cst.AssignTarget):
            assign = ctx.parent(up)
            value = assign.value if isinstance(assign, cst.Assign) else None
            if m.matches(value, m.Call(func=m.Attribute(value=m.Name(), attr=m.Name("cursor")
                                                        | m.Name("execute") | m.Name("executemany")
                                                        | m.Name("executescript")))):
                continue
            return f"the cursor `{cursor}` is rebound to something else"
        if not _inside(node, region, ctx):
            return f"the cursor `{cursor}` is used after its connection is closed"
        if _nested(node, fn, ctx):
            return f"the cursor `{cursor}` is used in a nested function, lambda or comprehension"
        if isinstance(up, cst.For) and up.iter is node:
            continue
        if isinstance(up, cst.Attribute) and up.value is node:
            above = ctx.parent(up)
            called = isinstance(above, cst.Call) and above.func is up
            if called and up.attr.value in _CURSOR_RESULT:
                if _result_consumed(above, ctx):  # type: ignore[arg-type]
                    continue
                return f"the result of `{cursor}.{up.attr.value}(...)` is used other than by fetching from it, " \
                       "iterating it or discarding it"
            if called and up.attr.value in _CURSOR_AWAITED | {"close"}:
                continue
            if not called and up.attr.value in _CURSOR_ATTRS:
                continue
        return f"the cursor `{cursor}` is used other than by its fetch/execute methods, attributes or a `for` loop"
    return ""


# ---------------------------------------------------------------------------------------------
# The module rewrite
# ---------------------------------------------------------------------------------------------

def _aiosqlite_connect(node: cst.CSTNode | None) -> bool:
    return m.matches(node, m.Call(func=m.Attribute(value=m.Name("aiosqlite"), attr=m.Name("connect"))))


def _await_stmt(name: str, method: str) -> cst.SimpleStatementLine:
    return cst.SimpleStatementLine(body=[cst.Expr(cst.Await(cst.Call(
        func=cst.Attribute(cst.Name(name), cst.Name(method)))))])


def _leaves_early(body: cst.BaseSuite) -> bool:
    """A ``return`` / ``break`` / ``continue`` that leaves ``body``."""
    class Finder(cst.CSTVisitor):
        found = False
        loops = 0

        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return False

        def visit_Lambda(self, node: cst.Lambda) -> bool:
            return False

        def visit_ClassDef(self, node: cst.ClassDef) -> bool:
            return False

        def visit_For(self, node: cst.For) -> None:
            self.loops += 1

        def leave_For(self, node: cst.For) -> None:
            self.loops -= 1

        def visit_While(self, node: cst.While) -> None:
            self.loops += 1

        def leave_While(self, node: cst.While) -> None:
            self.loops -= 1

        def visit_Return(self, node: cst.Return) -> None:
            self.found = True

        def visit_Break(self, node: cst.Break) -> None:
            self.found = self.found or not self.loops

        def visit_Continue(self, node: cst.Continue) -> None:
            self.found = self.found or not self.loops

    finder = Finder()
    body.visit(finder)
    return finder.found


def _transaction_body(body: cst.IndentedBlock, name: str) -> cst.IndentedBlock:
    """BODY + commit (see the module docstring): sqlite3's ``with connect(...)`` transaction."""
    stmts = list(body.body)
    commit = m.SimpleStatementLine(body=[m.Expr(m.Await(m.Call(func=m.Attribute(value=m.Name(name),
                                                                                attr=m.Name("commit")))))])
    if not _leaves_early(body):
        if stmts and m.matches(stmts[-1], commit):
            return body
        return body.with_changes(body=[*stmts, _await_stmt(name, "commit")])
    handler = cst.ExceptHandler(
        body=cst.IndentedBlock(body=[_await_stmt(name, "rollback"), cst.SimpleStatementLine(body=[cst.Raise()])]),
        type=cst.Name("BaseException"))
    try_node = cst.Try(body=body.with_changes(header=cst.TrailingWhitespace()), handlers=[handler],
                       finalbody=cst.Finally(body=cst.IndentedBlock(body=[_await_stmt(name, "commit")])))
    return cst.IndentedBlock(body=[try_node], header=body.header)


class _ModuleRewriter(cst.CSTTransformer):
    def __init__(self, functions: dict[str, _Function], ctx: TargetContext) -> None:
        super().__init__()
        self.functions = functions
        self.ctx = ctx
        self.scopes: list[str] = []
        self.stack: list[_Function | None] = []
        self.awaited: set[int] = set()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.scopes.append(node.name.value)

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        self.scopes.pop()
        return updated_node

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.scopes.append(node.name.value)
        self.stack.append(self.functions.get(".".join(self.scopes)))

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        self.scopes.pop()
        self.stack.pop()
        return updated_node

    def _here(self) -> _Function | None:
        return self.stack[-1] if self.stack else None

    def _conn(self, name: str) -> _Conn | None:
        info = self._here()
        conn = info.conns.get(name) if info else None
        return conn if conn is not None and not conn.refusal else None

    def _cursor(self, name: str) -> bool:
        info = self._here()
        return info is not None and name in info.cursor_of and self._conn(info.cursor_of[name]) is not None

    # with / assign forms ----------------------------------------------------------------------------
    def leave_With(self, original_node: cst.With, updated_node: cst.With) -> cst.BaseStatement:
        if updated_node.asynchronous is not None or len(updated_node.items) != 1:
            return updated_node
        item = updated_node.items[0]
        name = item.asname.name.value if item.asname and isinstance(item.asname.name, cst.Name) else ""
        conn = self._conn(name)
        if conn is None:
            return updated_node
        if conn.form == "closing" and _is_closing(item.item) and _aiosqlite_connect(item.item.args[0].value):  # type: ignore[attr-defined]
            self.ctx.drop_import("contextlib", "closing")
            self.ctx.drop_import("contextlib")
            item = item.with_changes(item=item.item.args[0].value)  # type: ignore[attr-defined]
            return updated_node.with_changes(items=[item], asynchronous=cst.Asynchronous())
        if conn.form == "with" and _aiosqlite_connect(item.item) and isinstance(updated_node.body, cst.IndentedBlock):
            return updated_node.with_changes(asynchronous=cst.Asynchronous(),
                                             body=_transaction_body(updated_node.body, name))
        return updated_node

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock,
                            updated_node: cst.IndentedBlock) -> cst.IndentedBlock:
        if self._here() is None:
            return updated_node
        body = list(updated_node.body)
        i = 0
        while i < len(body):
            new = self._assign_form(body, i)
            if new is not None:
                body[i:new[1]] = [new[0]]
            i += 1
        return updated_node.with_changes(body=body)

    def _assign_form(self, body: list[cst.BaseStatement], i: int) -> tuple[cst.With, int] | None:
        stmt = body[i]
        if not m.matches(stmt, m.SimpleStatementLine(body=[m.Assign(targets=[m.AssignTarget(target=m.Name())])])):
            return None
        assign = stmt.body[0]  # type: ignore[attr-defined]
        name = assign.targets[0].target.value
        conn = self._conn(name)
        if conn is None or conn.form != "assign" or not _aiosqlite_connect(assign.value):
            return None
        close = m.SimpleStatementLine(body=[m.Expr(m.Await(m.Call(func=m.Attribute(value=m.Name(name),
                                                                                   attr=m.Name("close")))))])
        inner: list[cst.BaseStatement] | None = None
        end = 0
        for j in range(i + 1, len(body)):
            if m.matches(body[j], close):
                inner, end = body[i + 1:j], j + 1
                break
        if inner is None and i + 1 < len(body) and isinstance(body[i + 1], cst.Try):
            try_node = body[i + 1]
            assert isinstance(try_node, cst.Try)
            if try_node.finalbody is not None and m.matches(try_node.finalbody.body.body[0], close):  # type: ignore[union-attr]
                end = i + 2
                if try_node.handlers or try_node.orelse:
                    inner = [try_node.with_changes(finalbody=None, leading_lines=[])]
                else:
                    inner = list(try_node.body.body)  # type: ignore[union-attr]
        if inner is None:
            return None
        if not inner:
            inner = [cst.SimpleStatementLine(body=[cst.Pass()])]
        inner[0] = inner[0].with_changes(leading_lines=[])
        with_node = cst.With(items=[cst.WithItem(assign.value, asname=cst.AsName(cst.Name(name)))],
                             body=cst.IndentedBlock(body=inner), asynchronous=cst.Asynchronous(),
                             leading_lines=stmt.leading_lines)
        return with_node, end

    # loops and the calls no finding covers ---------------------------------------------------------
    def leave_For(self, original_node: cst.For, updated_node: cst.For) -> cst.For:
        if updated_node.asynchronous is not None or self._here() is None:
            return updated_node
        it = updated_node.iter
        if isinstance(it, cst.Name) and self._cursor(it.value) or \
                m.matches(it, m.Await(m.Call(func=m.Attribute(value=m.Name(), attr=m.Name("execute")
                                                              | m.Name("executemany") | m.Name("executescript"))))) \
                and (self._conn(it.expression.func.value.value) is not None  # type: ignore[attr-defined]
                     or self._cursor(it.expression.func.value.value)):  # type: ignore[attr-defined]
            return updated_node.with_changes(asynchronous=cst.Asynchronous())
        return updated_node

    def visit_Await(self, node: cst.Await) -> None:
        self.awaited.add(id(node.expression))

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        """Await the connection and cursor methods no finding covered (``conn.cursor()``, ``cur.close()``, calls
        on a connection the scanner could not type, such as one from ``closing(...)``)."""
        if id(original_node) in self.awaited or self._here() is None:
            return updated_node
        func = updated_node.func
        if not isinstance(func, cst.Attribute):
            return updated_node
        method = func.attr.value
        receiver = func.value
        if isinstance(receiver, cst.Name):
            if method in _CONN_AWAITED | {"cursor"} and self._conn(receiver.value) is not None or \
                    method in _CURSOR_AWAITED | {"close"} and self._cursor(receiver.value):
                return awaited(updated_node)
        elif method in ("fetchone", "fetchall", "fetchmany") and m.matches(
                receiver, m.Await(m.Call(func=m.Attribute(value=m.Name(), attr=m.OneOf(
                    *(m.Name(n) for n in _CURSOR_RESULT)))))) \
                and (self._conn(receiver.expression.func.value.value) is not None  # type: ignore[attr-defined]
                     or self._cursor(receiver.expression.func.value.value)):  # type: ignore[attr-defined]
            return awaited(updated_node.with_changes(func=func.with_changes(value=_parens(receiver))))
        return updated_node

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.Attribute:
        return updated_node.with_changes(value=_parens(updated_node.value))

    def leave_Subscript(self, original_node: cst.Subscript, updated_node: cst.Subscript) -> cst.Subscript:
        return updated_node.with_changes(value=_parens(updated_node.value))


def _parens(expr: cst.BaseExpression) -> cst.BaseExpression:
    """``(await x).attr``: an ``await`` under a trailer needs parentheses."""
    if isinstance(expr, cst.Await) and not expr.lpar:
        return expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return expr


TARGET = Sqlite3Target()

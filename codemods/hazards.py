"""Hazards of offloading ORM and database work to threads, found per file with libcst.

These are reported for review, never rewritten:

* AM300: an object added to (or loaded from) a session is read on the loop after ``commit()``
  expired it, with no ``refresh()`` in between: the read runs a hidden SELECT on the loop.
  Silent when the project's session factory sets ``expire_on_commit=False``.
* AM301: a lazy relationship attribute (``relationship()`` / ``Relationship()`` without an eager
  ``lazy=`` option) read on an object that a blocking session call returned.
* AM302: a ``sqlite3.connect()`` without ``check_same_thread=False`` in a file whose sqlite3 calls
  are about to move to worker threads; and one session used by two thread calls run at once
  (``asyncio.gather(to_thread(...session...), to_thread(...session...))``).

The pool-exhaustion hazard (AM303) needs the cross-module call graph and lives in ``analysis.py``.
"""

from __future__ import annotations

import re

import libcst as cst
import libcst.matchers as m
from libcst.metadata import MetadataWrapper, PositionProvider

from .analysis import Finding, ProjectFacts
from .catalog import CODES
from .elide import elide

_TO_THREAD = m.Attribute(attr=m.Name("to_thread")) | m.Name("to_thread")
_IGNORE = re.compile(r"#\s*asgi-migrate:\s*ignore(?:\[([^\]]*)\])?", re.IGNORECASE)
_LOADERS = frozenset({"get", "exec", "execute", "scalar", "scalars", "first", "one", "one_or_none", "all",
                      "merge", "scalar_one", "scalar_one_or_none", "get_one"})


def _receiver_name(call: cst.Call) -> str | None:
    """``session`` for ``session.commit()`` and for ``asyncio.to_thread(session.commit)``."""
    func = _unwrap(call)
    if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
        return func.value.value
    return None


def _method(call: cst.Call) -> str | None:
    func = _unwrap(call)
    return func.attr.value if isinstance(func, cst.Attribute) else None


def _unwrap(call: cst.Call) -> cst.BaseExpression:
    """The function actually run: ``session.commit`` for ``asyncio.to_thread(session.commit)``."""
    if m.matches(call.func, _TO_THREAD) and call.args and isinstance(call.args[0].value, cst.Attribute):
        return call.args[0].value
    return call.func


def _call_args_names(call: cst.Call) -> list[str]:
    """Names passed to the call (for ``to_thread(f, x)``: the arguments after ``f``)."""
    args = list(call.args)[1:] if m.matches(call.func, _TO_THREAD) else list(call.args)
    return [a.value.value for a in args if isinstance(a.value, cst.Name)]


class _Events(cst.CSTVisitor):
    """The events of one async function body, in source order (nested functions excluded)."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, wrapper: MetadataWrapper) -> None:
        self.positions = wrapper.resolve(PositionProvider)
        self.events: list[tuple[int, int, str, object]] = []
        self.depth = 0

    def _pos(self, node: cst.CSTNode) -> tuple[int, int]:
        p = self.positions[node].start
        return p.line, p.column

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.depth += 1
        return self.depth == 1

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.depth -= 1

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return True  # lambdas passed to to_thread run in the thread: calls inside still matter for loads

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            self.events.append((*self._pos(node), "assign", (node.targets[0].target.value, node.value)))

    def visit_For(self, node: cst.For) -> None:
        if isinstance(node.target, cst.Name):
            self.events.append((*self._pos(node), "for", (node.target.value, node.iter)))

    def visit_Call(self, node: cst.Call) -> None:
        self.events.append((*self._pos(node), "call", node))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if isinstance(node.value, cst.Name):
            self.events.append((*self._pos(node), "attr", node))

    def visit_Return(self, node: cst.Return) -> None:
        if isinstance(node.value, cst.Name):
            self.events.append((*self._pos(node), "return", node))


def _loads_from_session(expr: cst.BaseExpression, sessions: set[str], blocking_lines: set[int],
                        positions) -> bool:
    """Whether ``expr`` evaluates a session query (directly, in to_thread, or via a blocking helper)."""
    for call in m.findall(expr, m.Call()):
        assert isinstance(call, cst.Call)
        name, method = _receiver_name(call), _method(call)
        if name in sessions and method in _LOADERS:
            return True
        if positions[call].start.line in blocking_lines:
            return True
    return False


def find_hazards(source: str, findings: list[Finding], facts: ProjectFacts, path: str = "") -> list[Finding]:
    """Hazard findings for one file (``findings``: the file's blocking-call findings)."""
    if not any(f.code in ("AM200", "AM210") for f in findings):
        return []
    # Functions without findings hold no hazard of the per-function checks; the module-wide ones look
    # for sqlite3.connect and gather(), so bodies naming them stay.
    elision = elide(source, [(f.line, f.end_line) for f in findings], keep=("sqlite3", "gather"))
    try:
        module = cst.parse_module(elision.source if elision is not None else source)
    except cst.ParserSyntaxError:
        return []
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    out: list[Finding] = []
    db_lines = {f.line for f in findings if f.code == "AM200"}
    by_function: dict[str, list[Finding]] = {}
    for f in findings:
        by_function.setdefault(f.function.rpartition(".")[2], []).append(f)

    for function in m.findall(module, m.FunctionDef(asynchronous=m.Asynchronous())):
        assert isinstance(function, cst.FunctionDef)
        events_visitor = _Events(wrapper)
        function.visit(events_visitor)
        events = sorted(events_visitor.events, key=lambda e: (e[0], e[1]))
        own = by_function.get(function.name.value, [])
        commit_lines = {f.line for f in own if f.code == "AM200" and f.call.endswith(".commit")}
        sessions = {n for f in own if f.code == "AM200" for n in [_session_name(f, events)] if n}
        out += _expired_reads(events, sessions, commit_lines, facts, path, function, positions)
        out += _lazy_loads(events, sessions, db_lines, facts, path, function, positions)
    out += _sqlite_connections(module, findings, facts, path, positions)
    out += _gathered_sessions(module, path, positions)
    lines = source.splitlines()
    return [h for h in out if not _suppressed(lines, h)]


def _suppressed(lines: list[str], hazard: Finding) -> bool:
    """``# asgi-migrate: ignore[AM300]`` (or a bare ignore) on the hazard's line."""
    text = lines[hazard.line - 1] if 0 < hazard.line <= len(lines) else ""
    match = _IGNORE.search(text)
    return bool(match) and (not match.group(1) or hazard.code in {c.strip() for c in match.group(1).split(",")})


def _session_name(f: Finding, events) -> str | None:
    for line, _, kind, payload in events:
        if kind == "call" and line == f.line:
            name = _receiver_name(payload)  # type: ignore[arg-type]
            if name:
                return name
    return None


def _hazard(code: str, path: str, node: cst.CSTNode, positions, function: str, detail: str) -> Finding:
    r = positions[node]
    f = Finding(path, r.start.line, r.start.column, r.end.line, r.end.column, code, "", function, "",
                kind="hazard", evidence=[detail])
    f.message = f"{CODES[code].title}: {detail}"
    return f


def _expired_reads(events, sessions, commit_lines, facts, path, function, positions) -> list[Finding]:
    if facts.expire_on_commit_false or not commit_lines:
        return []
    tracked: dict[str, str] = {}  # object name -> session name
    expired: set[str] = set()
    out = []
    for line, _, kind, payload in events:
        if kind == "call":
            call = payload
            name, method = _receiver_name(call), _method(call)  # type: ignore[arg-type]
            if name in sessions and method == "add":
                for obj in _call_args_names(call):  # type: ignore[arg-type]
                    tracked[obj] = name
            elif name in sessions and method == "refresh":
                for obj in _call_args_names(call):  # type: ignore[arg-type]
                    expired.discard(obj)
            elif name in sessions and method == "commit" and line in commit_lines:
                expired |= {obj for obj, s in tracked.items() if s == name}
        elif kind == "assign":
            target, value = payload  # type: ignore[misc]
            if _loads_from_session(value, sessions, set(), positions):
                tracked[target] = next(iter(sessions))
            expired.discard(target)
        elif kind in ("attr", "return"):
            obj = payload.value.value  # type: ignore[union-attr]
            if obj in expired:
                node = payload
                what = (f"`{obj}.{payload.attr.value}`" if kind == "attr"
                        else f"returning `{obj}` (serialised on the loop)")
                out.append(_hazard("AM300", path, node, positions, function.name.value,  # type: ignore[arg-type]
                                   f"{what} after `commit()` expired `{obj}`; add `expire_on_commit=False` to the "
                                   f"session factory or `refresh({obj})` in the thread call"))
                expired.discard(obj)
    return out


def _lazy_loads(events, sessions, db_lines, facts, path, function, positions) -> list[Finding]:
    if not facts.relationships:
        return []
    loaded: set[str] = set()
    out = []
    for _, _, kind, payload in events:
        if kind in ("assign", "for"):
            target, value = payload  # type: ignore[misc]
            if _loads_from_session(value, sessions, db_lines, positions) or (kind == "for" and isinstance(
                    value, cst.Name) and value.value in loaded):
                loaded.add(target)
        elif kind == "attr" and payload.value.value in loaded and payload.attr.value in facts.relationships:  # type: ignore[union-attr]
            out.append(_hazard("AM301", path, payload, positions, function.name.value,  # type: ignore[arg-type]
                               f"`{payload.value.value}.{payload.attr.value}` is a lazy relationship of an object "  # type: ignore[union-attr]
                               f"loaded by a session call: load it with `selectinload` or read it in the thread"))
    return out


def _sqlite_connections(module, findings, facts, path, positions) -> list[Finding]:
    if facts.check_same_thread_false or not any(f.code == "AM210" for f in findings):
        return []
    out = []
    for call in m.findall(module, m.Call(func=m.Attribute(value=m.Name("sqlite3"), attr=m.Name("connect")))):
        assert isinstance(call, cst.Call)
        if not any(a.keyword is not None and a.keyword.value == "check_same_thread" for a in call.args):
            out.append(_hazard("AM302", path, call, positions, "",
                               "this sqlite3 connection will be used from worker threads after offloading: "
                               "pass `check_same_thread=False` and serialise access (or use aiosqlite)"))
    return out


def _gathered_sessions(module, path, positions) -> list[Finding]:
    out = []
    gathers = m.Call(func=m.Attribute(attr=m.Name("gather")) | m.Name("gather"))
    for gather in m.findall(module, gathers):
        assert isinstance(gather, cst.Call)
        seen: dict[str, int] = {}
        for arg in gather.args:
            names = {n.value for n in m.findall(arg.value, m.Name()) if isinstance(n, cst.Name)}
            threaded = bool(m.findall(arg.value, _TO_THREAD))
            for n in names:
                if threaded and ("session" in n or n in ("db", "conn", "connection")):
                    seen[n] = seen.get(n, 0) + 1
        shared = sorted(n for n, c in seen.items() if c > 1)
        if shared:
            out.append(_hazard("AM302", path, gather, positions, "",
                               f"`{shared[0]}` is used by several thread calls at once: a Session/connection "
                               "is not thread-safe; give each thread its own session"))
    return out

"""Data flow of a block of statements that moves out of its function into a sync helper.

For the statements ``S`` of a unit inside function ``F`` (see ``offload_blocks``) this answers,
with libcst's scope analysis (``ScopeProvider``, ``ExpressionContextProvider``) and a small
definite-assignment walk:

* ``params``: the names ``S`` may read before binding them itself, that ``F`` (or a function
  around it) binds outside ``S``: parameters and locals. Globals, imports and builtins are not
  passed, the helper shares the module's globals;
* ``outputs``: the names ``S`` binds that ``F`` reads after ``S`` (later in the function, in a
  later iteration of a loop around ``S``, or in a closure): the helper returns them;
* ``returns``: ``S`` holds a ``return``, so the call site is ``return await ...``;
* or the reason why moving ``S`` into another function would change its meaning.

``match`` capture patterns (``case {"id": x}``, ``case [first, *rest]``, ``case str() as s``) bind
names, but libcst's scope analysis records their names as reads: ``FlowIndex`` collects them as
bindings instead (``captured``, ``home``) so they count as assignments like any other.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m
from libcst.metadata import CodeRange, ExpressionContext
from libcst.metadata.scope_provider import Access, BuiltinScope, ClassScope, GlobalScope, Scope

from .offload_placement import Parent

Pos = tuple[int, int]
_DYNAMIC = ("locals", "vars", "exec", "eval")


@dataclass
class Flow:
    params: list[str]
    outputs: list[str]
    returns: bool


@dataclass(frozen=True)
class Span:
    start: Pos
    end: Pos

    @staticmethod
    def of(r: CodeRange) -> Span:
        return Span((r.start.line, r.start.column), (r.end.line, r.end.column))

    def holds(self, other: Span) -> bool:
        return self.start <= other.start and other.end <= self.end


_CAPTURE = m.MatchAs() | m.MatchStar() | m.MatchMapping()


def pattern_names(pattern: cst.CSTNode) -> list[cst.Name]:
    """The names a ``match`` pattern binds (captures, ``as`` names, ``*rest``, ``**rest``)."""
    out = []
    for node in m.findall(pattern, _CAPTURE):
        name = node.rest if isinstance(node, cst.MatchMapping) else node.name  # type: ignore[attr-defined]
        if isinstance(name, cst.Name):
            out.append(name)
    return out


class FlowIndex:
    """The scopes, accesses and positions of one module, shared by all its units."""

    def __init__(self, scopes: Mapping[cst.CSTNode, Scope | None], positions: Mapping[cst.CSTNode, CodeRange],
                 contexts: Mapping[cst.CSTNode, ExpressionContext], parent: Parent) -> None:
        self.scopes = scopes
        self.positions = positions
        self.contexts = contexts
        self.parent = parent
        # match captures: bindings that libcst records as reads
        self.captures: list[tuple[Span, str, Scope]] = []
        self.captured: dict[Scope, set[str]] = {}
        capture_nodes: set[cst.Name] = set()
        for node in positions:
            if isinstance(node, cst.MatchCase):
                for name in pattern_names(node.pattern):
                    scope = scopes.get(name)
                    if scope is None or name not in positions:
                        continue
                    capture_nodes.add(name)
                    self.captures.append((self.span(name), name.value, scope))
                    self.captured.setdefault(scope, set()).add(name.value)
        seen: set[Scope] = set()
        self.accesses: list[tuple[Span, str, Access]] = []
        for scope in scopes.values():
            if scope is None or scope in seen:
                continue
            seen.add(scope)
            for access in scope.accesses:
                if isinstance(access.node, cst.Name) and access.node in positions and access.node not in capture_nodes:
                    self.accesses.append((self.span(access.node), access.node.value, access))
        self.accesses.sort(key=lambda a: a[0].start)
        # sorted starts, overall and per name: ``within`` bisects instead of scanning every access of the
        # module (quadratic on large functions with many findings)
        self._aug: dict[cst.FunctionDef, dict[str, list[Span]]] = {}
        self._starts = [a[0].start for a in self.accesses]
        self._named: dict[str, tuple[list[Pos], list[tuple[Span, str, Access]]]] = {}
        for a in self.accesses:
            starts, items = self._named.setdefault(a[1], ([], []))
            starts.append(a[0].start)
            items.append(a)

    def home(self, access: Access, name: str) -> Scope | None:
        """``home`` that also knows the names bound by ``match`` patterns."""
        if self.captured:
            scope: Scope | None = access.scope
            while scope is not None and not isinstance(scope, (GlobalScope, BuiltinScope)):
                own = scope is access.scope or not isinstance(scope, ClassScope)
                if own and name in self.captured.get(scope, ()):
                    return scope
                if own and name in scope.assignments:
                    break
                scope = scope.parent
        return home(access, name)

    def span(self, node: cst.CSTNode) -> Span:
        return Span.of(self.positions[node])

    def body_scope(self, function: cst.FunctionDef) -> Scope | None:
        body = function.body.body
        return self.scopes.get(body[0]) if body else None

    def aug_assigns(self, function: cst.FunctionDef) -> dict[str, list[Span]]:
        """``name += ...`` statements in ``function`` by name (one walk per function, not per name)."""
        found = self._aug.get(function)
        if found is None:
            found = {}
            for aug in m.findall(function.body, m.AugAssign(target=m.Name())):
                found.setdefault(aug.target.value, []).append(self.span(aug))  # type: ignore[attr-defined]
            self._aug[function] = found
        return found

    def within(self, span: Span, name: str | None = None) -> Iterable[tuple[Span, str, Access]]:
        """The accesses inside ``span`` (of ``name`` only, when given), in source order."""
        starts, items = (self._starts, self.accesses) if name is None else self._named.get(name, ([], []))
        lo, hi = bisect_left(starts, span.start), bisect_right(starts, span.end)
        return [a for a in items[lo:hi] if a[0].end <= span.end]


def home(access: Access, name: str) -> Scope | None:
    """The scope whose binding of ``name`` this access reads."""
    for ref in access.referents:
        return ref.scope
    scope: Scope | None = access.scope
    while scope is not None and not isinstance(scope, (GlobalScope, BuiltinScope)):
        if name in scope.assignments and (scope is access.scope or not isinstance(scope, ClassScope)):
            return scope
        scope = scope.parent
    return scope


def _function_scopes(fscope: Scope) -> list[Scope]:
    """``F``'s scope and the function scopes around it: the locals a helper must receive."""
    out, scope = [], fscope
    while scope is not None and not isinstance(scope, (GlobalScope, BuiltinScope)):
        if not isinstance(scope, ClassScope):
            out.append(scope)
        scope = scope.parent
    return out


# ---------------------------------------------------------------------------------------------
# Definite assignment and upward-exposed reads
# ---------------------------------------------------------------------------------------------

def target_names(expr: cst.BaseExpression) -> set[str]:
    if isinstance(expr, cst.Name):
        return {expr.value}
    if isinstance(expr, (cst.Tuple, cst.List)):
        out: set[str] = set()
        for el in expr.elements:
            out |= target_names(el.value)
        return out
    if isinstance(expr, cst.StarredElement):
        return target_names(expr.value)
    return set()


def _import_names(node: cst.Import | cst.ImportFrom) -> set[str]:
    if isinstance(node.names, cst.ImportStar):
        return set()
    out = set()
    for alias in node.names:
        if alias.asname is not None:
            out |= target_names(alias.asname.name)  # type: ignore[arg-type]
        elif isinstance(node, cst.Import):
            out.add(cst.Module([]).code_for_node(alias.name).split(".")[0])
        else:
            out.add(cst.Module([]).code_for_node(alias.name))
    return out


class Walk:
    """Walks statements in execution order, tracking the names bound on every path.

    ``block`` updates ``bound`` to the names definitely bound when the statements complete
    normally and returns True when they never do (every path returns, raises, breaks or continues).
    Reads of names not yet bound on the way land in ``exposed`` (in reading order).
    """

    def __init__(self, reads: Callable[[cst.CSTNode], list[str]]) -> None:
        self.reads = reads
        self.exposed: list[str] = []

    def read(self, node: cst.CSTNode | None, bound: set[str], extra: Iterable[str] = ()) -> None:
        if node is None:
            return
        for name in [*self.reads(node), *extra]:
            if name not in bound and name not in self.exposed:
                self.exposed.append(name)

    def block(self, stmts: Sequence[cst.BaseStatement], bound: set[str]) -> bool:
        return any(self.stmt(s, bound) for s in stmts)  # any() stops at the first exit

    def stmt(self, s: cst.BaseStatement | cst.BaseSmallStatement, bound: set[str]) -> bool:
        if isinstance(s, cst.BaseSmallStatement):  # the body of a one-line suite
            return self.small(s, bound)
        if isinstance(s, cst.SimpleStatementLine):
            return any(self.small(small, bound) for small in s.body)
        if isinstance(s, cst.If):
            self.read(s.test, bound)
            return self._join(bound, [self._branch(s.body.body, bound), self._orelse(s.orelse, bound)])
        if isinstance(s, cst.With):
            for item in s.items:
                self.read(item.item, bound)
                if item.asname is not None:
                    self.read(item.asname.name, bound)
                    bound |= target_names(item.asname.name)  # type: ignore[arg-type]
            return self.block(s.body.body, bound)
        if isinstance(s, (cst.For, cst.While)):
            return self._loop(s, bound)
        if isinstance(s, cst.Try):
            return self._try(s, bound)
        if isinstance(s, (cst.FunctionDef, cst.ClassDef)):
            self.read(s, bound)
            bound.add(s.name.value)
            return False
        if isinstance(s, cst.Match):
            return self._match(s, bound)
        self.read(s, bound)  # try-star, ...: read everything, bind nothing
        return False

    def small(self, s: cst.BaseSmallStatement, bound: set[str]) -> bool:
        if isinstance(s, (cst.Return, cst.Raise)):
            self.read(s, bound)
            return True
        if isinstance(s, (cst.Break, cst.Continue)):
            return True
        if isinstance(s, cst.Assign):
            self.read(s, bound)
            for t in s.targets:
                bound |= target_names(t.target)
        elif isinstance(s, cst.AugAssign):
            self.read(s, bound, target_names(s.target))
            bound |= target_names(s.target)
        elif isinstance(s, cst.AnnAssign):
            self.read(s.value, bound)
            self.read(s.target, bound)
            if s.value is not None:
                bound |= target_names(s.target)
        elif isinstance(s, (cst.Import, cst.ImportFrom)):
            bound |= _import_names(s)
        elif isinstance(s, cst.Del):
            self.read(s, bound)
            bound -= target_names(s.target)
        else:
            self.read(s, bound)
        return False

    def _branch(self, stmts: Sequence[cst.BaseStatement], bound: set[str]) -> tuple[set[str], bool]:
        inner = set(bound)
        return inner, self.block(stmts, inner)

    def _orelse(self, orelse: cst.If | cst.Else | None, bound: set[str]) -> tuple[set[str], bool]:
        if orelse is None:
            return set(bound), False
        if isinstance(orelse, cst.Else):
            return self._branch(orelse.body.body, bound)
        inner = set(bound)
        return inner, self.stmt(orelse, inner)

    @staticmethod
    def _join(bound: set[str], branches: list[tuple[set[str], bool]]) -> bool:
        live = [names for names, exits in branches if not exits]
        if not live:
            return True
        bound.clear()
        bound |= set.intersection(*live)
        return False

    def _match(self, s: cst.Match, bound: set[str]) -> bool:
        """Each case is a branch: its pattern binds its captures, then the guard and body run.

        Without an irrefutable case (``case _:``, ``case x:``, no guard) no case may match: that
        path binds nothing.
        """
        self.read(s.subject, bound)
        branches: list[tuple[set[str], bool]] = []
        for case in s.cases:
            inner = set(bound)
            self.read(case.pattern, inner)  # value patterns and class names
            inner |= {n.value for n in pattern_names(case.pattern)}
            self.read(case.guard, inner)
            branches.append((inner, self.block(case.body.body, inner)))  # type: ignore[union-attr]
        if not any(c.guard is None and _irrefutable(c.pattern) for c in s.cases):
            branches.append((set(bound), False))
        return self._join(bound, branches)

    def _loop(self, s: cst.For | cst.While, bound: set[str]) -> bool:
        inner = set(bound)
        if isinstance(s, cst.For):
            self.read(s.iter, bound)
            inner |= target_names(s.target)
        else:
            self.read(s.test, bound)
        self.block(s.body.body, inner)
        if s.orelse is not None:
            self.block(s.orelse.body.body, set(bound))
        return False  # the body may run zero times: it binds nothing for sure

    def _try(self, s: cst.Try, bound: set[str]) -> bool:
        entry = set(bound)
        body, exits = self._branch(s.body.body, entry)
        if not exits and s.orelse is not None:
            exits = self.block(s.orelse.body.body, body)
        branches = [(body, exits)]
        for handler in s.handlers:
            inner = set(entry)
            if handler.name is not None:
                inner |= target_names(handler.name.name)  # type: ignore[arg-type]
            self.read(handler.type, entry)
            branches.append((inner, self.block(handler.body.body, inner)))
        exits = self._join(bound, branches)
        if s.finalbody is not None:
            exits = self.block(s.finalbody.body.body, bound) or exits
        return exits


def _irrefutable(pattern: cst.MatchPattern) -> bool:
    """``_``, a bare capture, ``P as x`` with ``P`` irrefutable, an or-pattern with one such option."""
    if isinstance(pattern, cst.MatchAs):
        return pattern.pattern is None or _irrefutable(pattern.pattern)
    if isinstance(pattern, cst.MatchOr):
        return any(_irrefutable(option.pattern) for option in pattern.patterns)
    return False


# ---------------------------------------------------------------------------------------------
# The analysis of one unit
# ---------------------------------------------------------------------------------------------

_ASYNC_NODES = {
    "`await`": m.Await(),
    "`yield`": m.Yield(),
    "`async for`": m.For(asynchronous=m.Asynchronous()) | m.CompFor(asynchronous=m.Asynchronous()),
    "`async with`": m.With(asynchronous=m.Asynchronous()),
    "an `async def`": m.FunctionDef(asynchronous=m.Asynchronous()),
}
_COMPREHENSION = m.ListComp() | m.SetComp() | m.DictComp() | m.GeneratorExp()
_NESTED_SCOPE = m.FunctionDef() | m.Lambda() | m.ClassDef()


def async_construct(nodes: Sequence[cst.CSTNode]) -> str | None:
    """The first ``await``/``yield``/``async`` construct in ``nodes``, described."""
    for what, matcher in _ASYNC_NODES.items():
        if any(m.findall(n, matcher) for n in nodes):
            return what
    return None


class UnitFlow:
    """The data flow of the statements ``stmts`` of ``function`` (``whole``: its entire body)."""

    def __init__(self, index: FlowIndex, function: cst.FunctionDef, stmts: Sequence[cst.BaseStatement],
                 whole: bool) -> None:
        self.index = index
        self.function = function
        self.stmts = list(stmts)
        self.whole = whole
        self.span = Span(index.span(stmts[0]).start, index.span(stmts[-1]).end)
        self.fspan = index.span(function)
        scope = index.body_scope(function)
        assert scope is not None
        self.fscope = scope
        self.locals = _function_scopes(scope)

    # -- helpers ----------------------------------------------------------------------------

    def _inside(self, node: cst.CSTNode) -> bool:
        return self.span.holds(self.index.span(node))

    def _is_local(self, access: Access, name: str) -> bool:
        return self.index.home(access, name) in self.locals

    def _reads(self) -> list[tuple[Span, str, Access]]:
        return [a for a in self.index.within(self.span) if self._is_local(a[2], a[1])]

    def _bound_outside(self, name: str) -> bool:
        for scope in self.locals:
            captured = name in self.index.captured.get(scope, ())
            if name in scope.assignments or captured:
                if scope is not self.fscope:
                    return True
                return any(not self._inside(a.node) for a in scope.assignments[name]
                           if isinstance(getattr(a, "node", None), cst.CSTNode)) or \
                    any(n == name and s is scope and not self.span.holds(span) for span, n, s in self.index.captures)
        return False

    def _assigned_inside(self) -> list[str]:
        out: list[str] = []
        for assignment in self.fscope.assignments:
            node = getattr(assignment, "node", None)
            inside = isinstance(node, cst.CSTNode) and node in self.index.positions and self._inside(node)
            if inside and assignment.name not in out:
                out.append(assignment.name)
        for span, name, scope in self.index.captures:  # match captures
            if scope is self.fscope and self.span.holds(span) and name not in out:
                out.append(name)
        return out

    def _captured_inside(self) -> set[str]:
        return {name for span, name, _ in self.index.captures if self.span.holds(span)}

    def _statement_of(self, node: cst.CSTNode) -> cst.CSTNode:
        """The statement of ``function``'s own body that holds ``node``."""
        current = node
        while True:
            up = self.index.parent(current)
            if up is self.function.body or up is None:
                return current
            current = up

    # -- checks -----------------------------------------------------------------------------

    def refusal(self) -> str | None:
        """Why the statements cannot move into a helper; None when they can."""
        construct = async_construct(self.stmts)
        if construct is not None:
            return f"the block contains {construct}, which must stay on the event loop"
        for node in self.stmts:
            if m.findall(node, m.Global() | m.Nonlocal()):
                return "the block declares `global`/`nonlocal` names"
        declared = self._declared_global()
        hit = sorted(declared & set(self._assigned_inside()) | declared & self._all_targets())
        if hit:
            return f"the block assigns `{hit[0]}`, declared global/nonlocal in the function"
        for _, name, access in self.index.within(self.fspan):
            if name in _DYNAMIC and isinstance(self.index.home(access, name), BuiltinScope):
                return f"the function calls `{name}()`, which sees its local variables"
        return (self._jump_out() or self._deleted_outer() or self._walrus_in_comprehension()
                or self._escaping_closure())

    def _declared_global(self) -> set[str]:
        out: set[str] = set()
        for node in m.findall(self.function.body, m.Global() | m.Nonlocal()):
            out |= {n.name.value for n in node.names}  # type: ignore[attr-defined]
        return out

    def _all_targets(self) -> set[str]:
        out: set[str] = set()
        for node in self.stmts:
            for t in m.findall(node, m.AssignTarget() | m.AugAssign() | m.AnnAssign()):
                out |= target_names(t.target)  # type: ignore[attr-defined]
        return out | self._captured_inside()

    def _jump_out(self) -> str | None:
        for node in self.stmts:
            for jump in m.findall(node, m.Break() | m.Continue()):
                if not self._loop_inside(jump):
                    word = "break" if isinstance(jump, cst.Break) else "continue"
                    return f"`{word}` inside the block leaves it (to a loop around it)"
        return None

    def _loop_inside(self, jump: cst.CSTNode) -> bool:
        child, current = jump, self.index.parent(jump)
        while current is not None and not isinstance(current, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            if isinstance(current, (cst.For, cst.While)) and child is not current.orelse:
                return self._inside(current)
            child, current = current, self.index.parent(current)
        return False

    def _deleted_outer(self) -> str | None:
        for node in self.stmts:
            for name in m.findall(node, m.Name()):
                if self.index.contexts.get(name) is ExpressionContext.DEL and self._bound_outside(name.value):  # type: ignore[attr-defined]
                    return f"the block deletes `{name.value}`, which the function binds outside it"  # type: ignore[attr-defined]
        return None

    def _walrus_in_comprehension(self) -> str | None:
        for node in self.stmts:
            for comp in m.findall(node, _COMPREHENSION):
                if m.findall(comp, m.NamedExpr()):
                    return "an assignment expression (`:=`) in a comprehension binds a name of the function"
        return None

    def _escaping_closure(self) -> str | None:
        """A def, class, lambda or generator that captures locals and outlives its statement."""
        for node in self.stmts:
            for inner in m.findall(node, _NESTED_SCOPE | m.GeneratorExp()):
                if isinstance(inner, (cst.Lambda, cst.GeneratorExp)) and isinstance(self.index.parent(inner), cst.Arg):
                    continue  # passed straight to a call: used while the block runs
                captured = self._captures(inner)
                if captured:
                    return f"a closure in the block captures `{captured}`; it could outlive the block"
        return None

    def _captures(self, inner: cst.CSTNode) -> str | None:
        for _, name, access in self.index.within(self.index.span(inner)):
            if access.scope not in self.locals and self._is_local(access, name):
                return name
        return None

    # -- the flow ---------------------------------------------------------------------------

    def flow(self) -> Flow | str:
        """Parameters, outputs and ``return``; or why the block cannot be extracted."""
        reads = self._reads()

        def names_in(node: cst.CSTNode) -> list[str]:
            span = self.index.span(node)
            return [name for s, name, _ in reads if span.holds(s)]

        walk = Walk(names_in)
        bound: set[str] = set()
        exits = walk.block(self.stmts, bound)
        params = [n for n in walk.exposed if self._bound_outside(n)]
        returns = any(m.findall(s, m.Return()) and self._own_returns(s) for s in self.stmts)
        if self.whole:
            return Flow(params, [], returns)
        if returns:
            return self._returning(params, exits)
        outputs = [n for n in self._assigned_inside() if self._read_after(n)]
        for name in outputs:
            if name not in bound:
                if not self._bound_before(name):
                    return f"`{name}` is read after the block but not assigned on every path through it"
                if name not in params:
                    params.append(name)
        lost = self._lost_in_try(outputs)
        return lost if lost else Flow(params, outputs, False)

    def _own_returns(self, stmt: cst.CSTNode) -> bool:
        for ret in m.findall(stmt, m.Return()):
            current = self.index.parent(ret)
            while current is not None and current is not self.function:
                if isinstance(current, (cst.FunctionDef, cst.Lambda)):
                    break
                current = self.index.parent(current)
            else:
                return True
        return False

    def _returning(self, params: list[str], exits: bool) -> Flow | str:
        if self._is_generator():
            return "`return` inside the block of an async generator"
        tail = self.stmts[-1] is self.function.body.body[-1]
        if not (exits or tail):
            return ("`return` inside the block, which is not the function's last statement "
                    "and does not return on every path")
        return Flow(params, [], True)

    def _is_generator(self) -> bool:
        for y in m.findall(self.function.body, m.Yield()):
            current = self.index.parent(y)
            while current is not None and current is not self.function:
                if isinstance(current, (cst.FunctionDef, cst.Lambda)):
                    break
                current = self.index.parent(current)
            else:
                return True
        return False

    def _read_after(self, name: str) -> bool:
        """Whether the function may read the block's binding of ``name`` once the block is done.

        A closure's read counts, any read in a loop around the block counts (the next iteration),
        and so does a read on the way from the block to the end of the function before the name
        is bound again (``Walk`` over the statements that follow, level by level).
        """
        loop = self._outer_loop()
        for span, n, access in self.index.within(self.fspan, name):
            if n != name or self.span.holds(span) or self.index.home(access, name) is not self.fscope:
                continue
            if access.scope is not self.fscope or (loop and loop.holds(span)):
                return True
        for span in self.index.aug_assigns(self.function).get(name, ()):
            if not self.span.holds(span) and loop and loop.holds(span):
                return True
        return name in self._continuation_reads()

    def _continuation_reads(self) -> list[str]:
        def local_reads(node: cst.CSTNode) -> list[str]:
            span = self.index.span(node)
            return [n for s, n, a in self.index.within(span) if self.index.home(a, n) is self.fscope]

        walk = Walk(local_reads)
        bound: set[str] = set()
        node: cst.CSTNode = self.stmts[-1]
        while node is not self.function:
            up = self.index.parent(node)
            if up is None:
                break
            if isinstance(up, cst.IndentedBlock):
                rest = list(up.body)[list(up.body).index(node) + 1:]  # type: ignore[arg-type]
                if walk.block(rest, bound):
                    break
            elif isinstance(up, cst.Try) and node is up.body:
                for handler in up.handlers:
                    walk.block(handler.body.body, set(bound))
                if up.orelse is not None and walk.block(up.orelse.body.body, bound):
                    break
                if up.finalbody is not None and walk.block(up.finalbody.body.body, bound):
                    break
            node = up
        return walk.exposed

    def _outer_loop(self) -> Span | None:
        found, current = None, self.index.parent(self.stmts[0])
        while current is not None and current is not self.function:
            if isinstance(current, (cst.For, cst.While)):
                found = self.index.span(current)
            current = self.index.parent(current)
        return found

    def _bound_before(self, name: str) -> bool:
        """Whether ``name`` is bound on every path from the function's start to the block."""
        if name in _param_names(self.function):
            return True
        top = self._statement_of(self.stmts[0])
        body = list(self.function.body.body)
        bound: set[str] = set()
        Walk(lambda node: []).block(body[:body.index(top)], bound)  # type: ignore[arg-type]
        return name in bound

    def _lost_in_try(self, outputs: list[str]) -> str | None:
        """An output assigned before the block's end, read after a ``try`` around the block.

        When the block raises after assigning it, the function used to see the new value in its
        handler; the helper's assignment is lost with the exception.
        """
        for try_span in self._enclosing_try_bodies():
            for name in outputs:
                if self._read_outside(name, try_span) and not self._final_assignments(name):
                    return (f"`{name}` is read after the `try` around the block; an exception in the block "
                            "after assigning it would lose the new value")
        return None

    def _enclosing_try_bodies(self) -> list[Span]:
        out, child, current = [], self.stmts[0], self.index.parent(self.stmts[0])
        while current is not None and current is not self.function:
            if isinstance(current, cst.Try) and child is current.body:
                out.append(self.index.span(current.body))
            child, current = current, self.index.parent(current)
        return out

    def _read_outside(self, name: str, span: Span) -> bool:
        return any(n == name and not span.holds(s) and s.start >= self.span.end
                   for s, n, _ in self.index.within(self.fspan))

    def _final_assignments(self, name: str) -> bool:
        """Every binding of ``name`` in the block is the last thing the block does on its path."""
        if name in self._captured_inside():
            return False  # a case body runs after its pattern binds
        for stmt in self.stmts:
            for target in m.findall(stmt, m.Name(name)):
                if self.index.contexts.get(target) is ExpressionContext.STORE and not self._final(target):
                    return False
        return True

    def _final(self, node: cst.CSTNode) -> bool:
        current = node
        while not isinstance(current, cst.BaseSmallStatement):
            current = self.index.parent(current)  # type: ignore[assignment]
            if current is None:
                return False
        while current not in self.stmts:
            up = self.index.parent(current)
            if isinstance(up, (cst.SimpleStatementLine, cst.SimpleStatementSuite, cst.IndentedBlock)):
                if up.body[-1] is not current:
                    return False
            elif not isinstance(up, (cst.With, cst.If, cst.Else)):
                return False
            if up is None:
                return False
            current = up
        return True


def _param_names(function: cst.FunctionDef) -> list[str]:
    p = function.params
    params = [*p.posonly_params, *p.params, *p.kwonly_params]
    if isinstance(p.star_arg, cst.Param):
        params.append(p.star_arg)
    if p.star_kwarg is not None:
        params.append(p.star_kwarg)
    return [param.name.value for param in params]


__all__ = ["Flow", "FlowIndex", "Span", "UnitFlow", "Walk", "async_construct", "home", "pattern_names",
           "target_names"]

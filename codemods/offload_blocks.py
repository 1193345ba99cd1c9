"""Extract blocks of blocking work into sync helpers, each run by one ``asyncio.to_thread``.

Several blocking statements that form one unit move together into a sync helper::

    async def load(path: str) -> dict:             def _load_sync(path: str) -> dict:
        with open(path) as f:                 ->       with open(path) as f:
            return json.load(f)                            return json.load(f)


                                                   async def load(path: str) -> dict:
                                                       return await asyncio.to_thread(_load_sync, path)

Units, tried outermost first (a refused unit falls back to the finer ones inside it):

* the whole body of an ``async def`` without ``await``/``async``/``yield`` holding two or more
  blocking statements or a sync ``with`` around blocking work, when nothing in it must stay on
  the event loop;
* a ``for``/``while`` loop whose body holds two or more blocking statements;
* an ``if`` whose test and body both block (``if os.path.exists(p): open(p) ...``);
* a sync ``with`` whose items or body block.

The helper (``_<function>_sync``; a method when the block reads ``self``/``cls``) takes the locals
the block reads as parameters and returns the ones the function reads after it, which the call
site re-binds (``data = await asyncio.to_thread(_load_sync, path)``). A block that returns becomes
``return await ...``. The data flow and the refusals live in ``offload_flow``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import libcst as cst
import libcst.matchers as m
from libcst.helpers import get_full_name_for_node
from libcst.metadata.scope_provider import BuiltinScope, ClassScope, GlobalScope

from .analysis import Finding
from .offload_flow import Flow, FlowIndex, Span, UnitFlow

_LOOP_MODULES = ("asyncio", "anyio", "trio", "contextvars")
_CONTEXT_VAR = m.Assign(value=m.Call(func=m.Name("ContextVar") | m.Attribute(attr=m.Name("ContextVar"))))
_LOOP_PARAM_NAMES = {"request", "websocket", "ws", "background_tasks"}
_LOOP_PARAM_TYPES = re.compile(r"\b(Request|WebSocket|HTTPConnection|BackgroundTasks|Scope|Receive|Send)\b")
_MANGLED = re.compile(r"^__\w*[^_]_?$")


@dataclass
class Unit:
    kind: str  # "with-statement" | "if-statement" | "loop" | "function body"
    function: cst.FunctionDef
    stmts: list[cst.BaseStatement]
    findings: list[int]

    @property
    def whole(self) -> bool:
        return self.kind == "function body"


@dataclass
class BlockPlan:
    """What the offload codemod applies: replacements keyed by original nodes."""
    replaced: dict[cst.CSTNode, cst.BaseStatement] = field(default_factory=dict)  # unit statement -> call
    bodies: dict[cst.FunctionDef, cst.IndentedBlock] = field(default_factory=dict)  # whole-body units
    helpers: dict[cst.CSTNode, list[cst.FunctionDef]] = field(default_factory=dict)  # goes before the key
    fixed: set[int] = field(default_factory=set)
    refused_withs: dict[cst.With, str] = field(default_factory=dict)


def plan_blocks(module: cst.Module, findings: Sequence[Finding], calls: dict[int, cst.BaseExpression],
                index: FlowIndex, to_thread: Callable[[], cst.BaseExpression]) -> BlockPlan:
    """The block extractions of ``module``: ``calls`` maps finding indexes to their nodes (calls, property reads)."""
    return _BlockPlanner(module, findings, calls, index, to_thread).plan()


# ---------------------------------------------------------------------------------------------
# Module facts
# ---------------------------------------------------------------------------------------------

def _loop_names(module: cst.Module) -> set[str]:
    """Top-level names bound to asyncio/anyio/trio/contextvars, their members and ContextVars."""
    out: set[str] = set()
    for stmt in module.body:
        for small in getattr(stmt, "body", ()) if isinstance(stmt, cst.SimpleStatementLine) else ():
            if isinstance(small, cst.Import):
                for alias in small.names:
                    if (get_full_name_for_node(alias.name) or "").split(".")[0] in _LOOP_MODULES:
                        out.add(get_full_name_for_node(alias.asname.name) if alias.asname else  # type: ignore[arg-type]
                                (get_full_name_for_node(alias.name) or "").split(".")[0])
            elif isinstance(small, cst.ImportFrom) and small.module is not None and not small.relative:
                if (get_full_name_for_node(small.module) or "").split(".")[0] in _LOOP_MODULES and \
                        not isinstance(small.names, cst.ImportStar):
                    out |= {get_full_name_for_node(a.asname.name if a.asname else a.name) or "" for a in small.names}
            elif m.matches(small, _CONTEXT_VAR):
                for t in small.targets:  # type: ignore[attr-defined]
                    if isinstance(t.target, cst.Name):
                        out.add(t.target.value)
    return out


def _async_defs(body: Sequence[cst.BaseStatement]) -> set[str]:
    return {s.name.value for s in body if isinstance(s, cst.FunctionDef) and s.asynchronous is not None}


def _decorator_names(function: cst.FunctionDef) -> set[str]:
    return {get_full_name_for_node(d.decorator) or "" for d in function.decorators}


def _params(function: cst.FunctionDef) -> list[cst.Param]:
    p = function.params
    out = [*p.posonly_params, *p.params]
    if isinstance(p.star_arg, cst.Param):
        out.append(p.star_arg)
    out += p.kwonly_params
    if p.star_kwarg is not None:
        out.append(p.star_kwarg)
    return out


def _loop_bound_params(function: cst.FunctionDef) -> set[str]:
    out = set()
    for param in _params(function):
        annotation = cst.Module([]).code_for_node(param.annotation.annotation) if param.annotation else ""
        if param.name.value in _LOOP_PARAM_NAMES or _LOOP_PARAM_TYPES.search(annotation):
            out.add(param.name.value)
    return out


def _docstring_count(body: Sequence[cst.BaseStatement]) -> int:
    first = body[0] if body else None
    is_doc = m.matches(first, m.SimpleStatementLine(body=[m.Expr(value=m.SimpleString() | m.ConcatenatedString())])) \
        if first is not None else False
    return 1 if is_doc else 0


def _child_blocks(stmt: cst.BaseStatement) -> Iterator[Sequence[cst.BaseStatement]]:
    """The statement lists nested in a compound statement (elif chains flattened)."""
    if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)) or not isinstance(stmt, cst.BaseCompoundStatement):
        return
    body = getattr(stmt, "body", None)  # a `match` has cases, no body
    if isinstance(body, cst.IndentedBlock):
        yield body.body
    if isinstance(stmt, cst.Try):
        for handler in stmt.handlers:
            yield handler.body.body  # type: ignore[union-attr]
    if isinstance(stmt, cst.Match):
        for case in stmt.cases:
            yield case.body.body  # type: ignore[union-attr]
    orelse = getattr(stmt, "orelse", None)
    if isinstance(orelse, cst.If):
        yield from _child_blocks(orelse)
    elif orelse is not None:
        yield orelse.body.body
    final = getattr(stmt, "finalbody", None)
    if final is not None:
        yield final.body.body


# ---------------------------------------------------------------------------------------------
# Planning
# ---------------------------------------------------------------------------------------------

class _BlockPlanner:
    def __init__(self, module: cst.Module, findings: Sequence[Finding], calls: dict[int, cst.BaseExpression],
                 index: FlowIndex, to_thread: Callable[[], cst.BaseExpression]) -> None:
        self.module = module
        self.findings = findings
        self.index = index
        self.parent = index.parent
        self.to_thread = to_thread
        self.loop_names = _loop_names(module)
        self.async_functions = _async_defs(module.body)
        self.calls = calls
        self.result = BlockPlan()
        self.used_names: set[str] = set()
        self.holders: dict[cst.CSTNode, list[int]] = {}
        self.owners: dict[cst.FunctionDef, list[int]] = {}
        for i, call in calls.items():
            self._hold(i, call)

    def _hold(self, i: int, call: cst.BaseExpression) -> None:
        owner: cst.FunctionDef | None = None
        current: cst.CSTNode | None = call
        while current is not None:
            self.holders.setdefault(current, []).append(i)
            if owner is None and isinstance(current, cst.FunctionDef) and current.asynchronous is not None:
                owner = current
            current = self.parent(current)
        if owner is not None:
            self.owners.setdefault(owner, []).append(i)

    def held(self, node: cst.CSTNode | None, function: cst.FunctionDef) -> list[int]:
        own = set(self.owners.get(function, ()))
        return [i for i in self.holders.get(node, ()) if i in own] if node is not None else []

    def _statement_count(self, indexes: Sequence[int]) -> int:
        """How many distinct statements (small ones, or compound headers) hold these findings.

        Findings inside nested defs and lambdas do not count (they are not blocking work of the
        function itself), nor do direct ``time.sleep`` calls (they become ``asyncio.sleep``).
        """
        return len({id(self._statement_of(self.calls[i])) for i in indexes
                    if self._direct(self.calls[i]) and not _is_sleep(self.findings[i])})

    def _direct(self, node: cst.CSTNode) -> bool:
        current = self.parent(node)
        while current is not None and not isinstance(current, (cst.FunctionDef, cst.Lambda)):
            current = self.parent(current)
        return isinstance(current, cst.FunctionDef) and current.asynchronous is not None

    def _statement_of(self, node: cst.CSTNode) -> cst.CSTNode:
        current: cst.CSTNode | None = node
        while current is not None and not isinstance(current, (cst.BaseSmallStatement, cst.BaseCompoundStatement)):
            current = self.parent(current)
        return current or node

    def plan(self) -> BlockPlan:
        for function, own in self.owners.items():
            if own:
                self._plan_function(function)
        return self.result

    def _plan_function(self, function: cst.FunctionDef) -> None:
        if not isinstance(function.body, cst.IndentedBlock):
            return  # `async def f(): stmt` on one line: nothing to group
        body = list(function.body.body)
        stmts = body[_docstring_count(body):]
        held = self.held(function.body, function)
        whole = stmts and (self._statement_count(held) >= 2 or self._holds_with(stmts, function))
        if whole and self._try(Unit("function body", function, stmts, held)) is None:
            return
        self._statements(function, body)

    def _holds_with(self, stmts: Sequence[cst.BaseStatement], function: cst.FunctionDef) -> bool:
        return any(isinstance(w, cst.With) and w.asynchronous is None and self.held(w, function)
                   for s in stmts for w in m.findall(s, m.With()))

    def _statements(self, function: cst.FunctionDef, stmts: Sequence[cst.BaseStatement]) -> None:
        for stmt in stmts:
            held = self.held(stmt, function)
            if not held or isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                continue
            unit = self._unit(function, stmt, held)
            if unit is not None:
                reason = self._try(unit)
                if reason is None:
                    continue
                if isinstance(stmt, cst.With) and self._blocking_items(stmt, function):
                    self.result.refused_withs[stmt] = reason
                    continue
            for block in _child_blocks(stmt):
                self._statements(function, block)

    def _unit(self, function: cst.FunctionDef, stmt: cst.BaseStatement, held: list[int]) -> Unit | None:
        if isinstance(stmt, cst.With) and stmt.asynchronous is None:
            return Unit("with-statement", function, [stmt], held)
        if isinstance(stmt, cst.If) and self.held(stmt.test, function) and self.held(stmt.body, function):
            return Unit("if-statement", function, [stmt], held)
        if isinstance(stmt, (cst.For, cst.While)) and \
                self._statement_count(self.held(stmt.body, function)) >= 2:
            return Unit("loop", function, [stmt], held)
        return None

    def _blocking_items(self, stmt: cst.With, function: cst.FunctionDef) -> bool:
        return any(self.held(item, function) for item in stmt.items)

    # -- one unit ---------------------------------------------------------------------------

    def _try(self, unit: Unit) -> str | None:
        """Extract ``unit`` when it can move; otherwise the reason why not."""
        flow_of = UnitFlow(self.index, unit.function, unit.stmts, unit.whole)
        reason = flow_of.refusal() or self._loop_bound(unit)
        if reason is not None:
            return reason
        flow = flow_of.flow()
        if isinstance(flow, str):
            return flow
        reason = self._loop_bound_params(unit, flow)
        if reason is not None:
            return reason
        return self._extract(unit, flow)

    def _loop_bound(self, unit: Unit) -> str | None:
        """Something in the block that belongs to the event loop."""
        if any(self.findings[i].code == "AM280" for i in unit.findings):
            return "the block calls asyncio.get_event_loop(), which must run on the loop"
        span = Span(self.index.span(unit.stmts[0]).start, self.index.span(unit.stmts[-1]).end)
        for _, name, access in self.index.within(span):
            if name in self.loop_names and isinstance(self.index.home(access, name), GlobalScope):
                return f"the block uses `{name}`, which must stay on the event loop"
        cls, receiver, _ = self._owner(unit.function)
        methods = _async_defs(cls.body.body) if cls is not None else set()  # type: ignore[arg-type]
        for stmt in unit.stmts:
            for call in m.findall(stmt, m.Call()):
                name = _called_async(call, self.async_functions, receiver, methods)  # type: ignore[arg-type]
                if name:
                    return f"the block calls the async function `{name}` without await"
        return None

    def _loop_bound_params(self, unit: Unit, flow: Flow) -> str | None:
        for name in flow.params:
            if name in _loop_bound_params(unit.function):
                return f"the block uses `{name}`, which belongs to the event loop"
        return None

    def _owner(self, function: cst.FunctionDef) -> tuple[cst.ClassDef | None, str | None, str]:
        """The class of a method, its receiver name, and the method kind."""
        block = self.parent(function)
        cls = self.parent(block) if isinstance(block, cst.IndentedBlock) else None
        if not isinstance(cls, cst.ClassDef):
            return None, None, "function"
        decorators = _decorator_names(function)
        if "staticmethod" in decorators:
            return cls, None, "static"
        positional = [*function.params.posonly_params, *function.params.params]
        receiver = positional[0].name.value if positional else None
        return cls, receiver, "classmethod" if "classmethod" in decorators else "method"

    # -- building ---------------------------------------------------------------------------

    def _extract(self, unit: Unit, flow: Flow) -> str | None:
        function = unit.function
        cls, receiver, kind = self._owner(function)
        method = cls is not None and receiver is not None and receiver in flow.params
        if cls is not None and not method and self._class_private(unit):
            return "the block uses super() or class-private names but not the instance: it must stay a method"
        params = [p for p in flow.params if not (method and p == receiver)]
        container: cst.CSTNode = cls if method else self.module  # type: ignore[assignment]
        name = self._name(function, cls if method else None)
        up = self.parent(function)
        same_place = up is container or (up is not None and self.parent(up) is container)
        helper = self._helper(unit, flow, name, params, receiver if method else None,
                              kind == "classmethod" and method, same_place)
        ref: cst.BaseExpression = cst.Attribute(cst.Name(receiver), cst.Name(name)) if method else cst.Name(name)  # type: ignore[arg-type]
        line = _call_line(self.to_thread(), ref, params, flow)
        if unit.whole:
            body = function.body
            doc = list(body.body[:_docstring_count(body.body)])
            first = unit.stmts[0]
            kept = [ln for ln in first.leading_lines if ln.comment is None] if doc else []
            line = line.with_changes(leading_lines=kept)
            self.result.bodies[function] = body.with_changes(body=[*doc, line])
        else:
            self.result.replaced[unit.stmts[0]] = line.with_changes(leading_lines=unit.stmts[0].leading_lines)
        anchor = function if method else self._top_level(function)
        self.result.helpers.setdefault(anchor, []).append(helper)
        self.result.fixed.update(unit.findings)
        return None

    def _class_private(self, unit: Unit) -> bool:
        for stmt in unit.stmts:
            if m.findall(stmt, m.Call(func=m.Name("super"))):
                return True
            if any(_MANGLED.match(n.value) for n in m.findall(stmt, m.Name())):  # type: ignore[attr-defined]
                return True
        return False

    def _top_level(self, node: cst.CSTNode) -> cst.CSTNode:
        current = node
        while True:
            up = self.parent(current)
            if up is None or isinstance(up, cst.Module):
                return current
            current = up

    def _name(self, function: cst.FunctionDef, cls: cst.ClassDef | None) -> str:
        """``_<function>_sync``, with ``_2``, ``_3`` ... when the name is taken."""
        taken = set(self.used_names)
        scope = self.index.body_scope(function)
        while scope is not None and not isinstance(scope, BuiltinScope):
            if not isinstance(scope, ClassScope):
                taken |= {a.name for a in scope.assignments} | self.index.captured.get(scope, set())
            scope = scope.parent
        if cls is not None:
            class_scope = self.index.scopes.get(cls.body.body[0]) if cls.body.body else None  # type: ignore[union-attr]
            if class_scope is not None:
                taken |= {a.name for a in class_scope.assignments}
        base = f"_{function.name.value.lstrip('_')}_sync"
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        self.used_names.add(name)
        return name

    def _helper(self, unit: Unit, flow: Flow, name: str, params: list[str], receiver: str | None,
                classmethod: bool, same_place: bool) -> cst.FunctionDef:
        """``def name(receiver, *params) -> ...:`` holding the unit's statements."""
        annotations = {p.name.value: p.annotation for p in _params(unit.function)
                       if p is not unit.function.params.star_arg and p is not unit.function.params.star_kwarg}
        params_cst = [cst.Param(cst.Name(receiver))] if receiver else []
        params_cst += [cst.Param(cst.Name(p), annotation=annotations.get(p) if same_place else None) for p in params]
        first = unit.stmts[0]
        if unit.whole:
            lines = list(first.leading_lines)
            while lines and lines[0].comment is None:
                lines.pop(0)
        else:
            lines = []
        body = [first.with_changes(leading_lines=lines), *unit.stmts[1:]]
        if flow.outputs:
            names = [cst.Name(o) for o in flow.outputs]
            value: cst.BaseExpression = names[0] if len(names) == 1 else \
                cst.Tuple([cst.Element(n) for n in names], lpar=[], rpar=[])
            body.append(cst.SimpleStatementLine([cst.Return(value)]))
        returns = unit.function.returns if (flow.returns or unit.whole) and same_place else None
        decorators = [cst.Decorator(cst.Name("classmethod"))] if classmethod else []
        return cst.FunctionDef(name=cst.Name(name), params=cst.Parameters(params=params_cst),
                               body=cst.IndentedBlock(body=body), returns=returns, decorators=decorators)


def _is_sleep(f: Finding) -> bool:
    return f.code == "AM150" and f.call == "time.sleep" and not f.via and not f.chained


def _called_async(call: cst.Call, functions: set[str], receiver: str | None, methods: set[str]) -> str | None:
    func = call.func
    if isinstance(func, cst.Name) and func.value in functions:
        return func.value
    if receiver and m.matches(func, m.Attribute(value=m.Name(receiver))) and func.attr.value in methods:  # type: ignore[attr-defined]
        return f"{receiver}.{func.attr.value}"  # type: ignore[attr-defined]
    return None


def _call_line(to_thread: cst.BaseExpression, ref: cst.BaseExpression, params: list[str],
               flow: Flow) -> cst.SimpleStatementLine:
    """``[outputs =|return] await to_thread(ref, *params)``."""
    call = cst.Call(func=to_thread, args=[cst.Arg(ref), *(cst.Arg(cst.Name(p)) for p in params)])
    value = cst.Await(call)
    small: cst.BaseSmallStatement
    if flow.returns:
        small = cst.Return(value)
    elif not flow.outputs:
        small = cst.Expr(value)
    else:
        names = [cst.Name(o) for o in flow.outputs]
        target: cst.BaseAssignTargetExpression = names[0] if len(names) == 1 else \
            cst.Tuple([cst.Element(n) for n in names], lpar=[], rpar=[])
        small = cst.Assign([cst.AssignTarget(target)], value)
    return cst.SimpleStatementLine([small])


def place_helpers(body: Sequence[cst.BaseStatement], updated: Sequence[cst.BaseStatement],
                  helpers: dict[cst.CSTNode, list[cst.FunctionDef]], blank: int) -> list[cst.BaseStatement] | None:
    """``updated`` (the new version of ``body``) with helpers inserted before their statements.

    The first helper takes the blank lines above the statement; ``blank`` lines separate the
    helpers and the statement (2 at module level, 1 in a class). Comments above the statement
    stay with it.
    """
    if not any(s in helpers for s in body):
        return None
    out: list[cst.BaseStatement] = []
    sep = [cst.EmptyLine(indent=False) for _ in range(blank)]
    for original, new in zip(body, updated):
        extra = helpers.get(original)
        if extra:
            lines = list(new.leading_lines)
            n = 0
            while n < len(lines) and lines[n].comment is None:
                n += 1
            for k, helper in enumerate(extra):
                out.append(helper.with_changes(leading_lines=lines[:n] if k == 0 else sep))
            new = new.with_changes(leading_lines=[*sep, *lines[n:]])
        out.append(new)
    return out


__all__ = ["BlockPlan", "Unit", "place_helpers", "plan_blocks"]

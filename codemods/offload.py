"""Offload blocking calls off the event loop.

Rewrites each finding's call in place::

    x = f(a, b=c)                          ->  x = await asyncio.to_thread(f, a, b=c)
    rows = session.exec(select(X)).all()   ->  rows = await asyncio.to_thread(lambda: session.exec(select(X)).all())
    time.sleep(x)                          ->  await asyncio.sleep(x)
    n = f(x).size                          ->  n = (await asyncio.to_thread(f, x)).size

A call whose arguments (or receiver) hold another blocking call, and a call whose result is read
by further method calls, moves into the thread as a whole inside a ``lambda``. Calls where
``await`` is illegal or changes meaning (lambdas, generator expressions, sync defs, decorators,
defaults, class bodies, sync ``with`` items) are left alone and reported for review.

The function is pure: source and findings in, new source and the fate of every finding out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import libcst as cst
from libcst.codemod import CodemodContext, VisitorBasedCodemodCommand
from libcst.codemod.visitors import AddImportsVisitor
from libcst.metadata import CodeRange, ParentNodeProvider, PositionProvider

from . import offload_build as build
from .analysis import Finding
from .imports import AsyncioNames, asyncio_names
from .offload_placement import Parent, extend_chain, lambda_hazard, needs_parens, refusal, with_item_statement


@dataclass
class Review:
    """A finding left unchanged, with the reason."""
    finding: Finding
    reason: str


@dataclass
class RewriteResult:
    code: str  # the new source (== input when nothing changed)
    fixed: list[Finding] = field(default_factory=list)
    review: list[Review] = field(default_factory=list)


def offload_source(source: str, findings: list[Finding]) -> RewriteResult:
    """Rewrite the blocking calls of ``findings`` (all from this one source) to run off the loop."""
    if not findings:
        return RewriteResult(source)
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        return _unchanged(source, findings, f"source is not parseable by libcst: {exc.message} (line {exc.raw_line})")
    if module.code != source:
        return _unchanged(source, findings, "libcst does not round-trip this file byte for byte")
    error = _compile_error(source)
    if error:
        return _unchanged(source, findings, f"source does not compile: {error}")
    command = OffloadCommand(CodemodContext(), findings)
    try:
        code = command.transform_module(module).code
    except Exception as exc:  # noqa: BLE001 - a bug in the rewrite must never corrupt the user's file
        return _unchanged(source, findings, f"internal error in the offload rewrite: {exc!r}")
    if code != source:
        error = _compile_error(code)
        if error:
            return _unchanged(source, findings, f"rewrite did not compile: {error}")
    return RewriteResult(code, command.fixed(), command.reviews())


def _unchanged(source: str, findings: Sequence[Finding], reason: str) -> RewriteResult:
    return RewriteResult(source, [], [Review(f, reason) for f in findings])


def _compile_error(code: str) -> str:
    try:
        compile(code, "<offload>", "exec", dont_inherit=True)  # our own __future__ flags must not leak in
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None)
        return f"{getattr(exc, 'msg', exc)}" + (f" (line {line})" if line else "")
    return ""


# ---------------------------------------------------------------------------------------------
# Planning: which node each finding becomes, and in which shape
# ---------------------------------------------------------------------------------------------

@dataclass
class _Target:
    """One rewritten node and the findings it fixes."""
    node: cst.Call
    findings: list[int]  # indexes into the finding list
    chain: bool  # the node reads further methods of the blocking result (or is a merged chain)
    sleep: bool  # a direct time.sleep: becomes asyncio.sleep, stays on the loop
    absorbed: list[_Target] = field(default_factory=list)  # blocking calls evaluated inside this one

    @property
    def lazy(self) -> bool:
        return self.chain or bool(self.absorbed)

    def all_findings(self) -> list[int]:
        out = list(self.findings)
        for inner in self.absorbed:
            out += inner.all_findings()
        return out


def _is_sleep(f: Finding) -> bool:
    return f.code == "AM150" and f.call == "time.sleep" and not f.via and not f.chained


def _not_offloadable(findings: Iterable[Finding]) -> str | None:
    # get_event_loop() must run on the loop's own thread; the loop-API rewrite replaces it instead
    if any(f.code == "AM280" for f in findings):
        return "AM280 is not a blocking call: the loop-API rewrite handles it, not to_thread"
    return None


def _key(r: CodeRange) -> tuple[int, int, int, int]:
    return (r.start.line, r.start.column, r.end.line, r.end.column)


class _Planner:
    def __init__(self, findings: Sequence[Finding], positions: dict[cst.CSTNode, CodeRange], parent: Parent):
        self.findings = findings
        self.parent = parent
        self.calls = {_key(r): n for n, r in positions.items() if isinstance(n, cst.Call)}
        self.reasons: dict[int, str] = {}

    def plan(self) -> list[_Target]:
        """The outermost rewrites; reasons for the rest land in ``self.reasons``."""
        nodes = self._map()
        blocked = {w for n in nodes if (w := with_item_statement(n, self.parent)) is not None}
        targets: dict[cst.Call, _Target] = {}
        for node, indexes in nodes.items():
            reason = _not_offloadable(self.findings[i] for i in indexes) or refusal(node, self.parent, blocked)
            if reason is not None:
                self._refuse(indexes, reason)
                continue
            top = extend_chain(node, self.parent)
            chain = top is not node or any(self.findings[i].chained for i in indexes)
            sleep = not chain and all(_is_sleep(self.findings[i]) for i in indexes)
            if top in targets:  # a blocking receiver and a blocking method call on it
                targets[top].findings += indexes
                targets[top].chain = True
                targets[top].sleep = False
            else:
                targets[top] = _Target(top, list(indexes), chain, sleep)
        return self._nest(targets)

    def _map(self) -> dict[cst.Call, list[int]]:
        nodes: dict[cst.Call, list[int]] = {}
        for i, f in enumerate(self.findings):
            node = self.calls.get((f.line, f.col, f.end_line, f.end_col))
            if node is None:
                self.reasons[i] = (f"no call found at {f.line}:{f.col}-{f.end_line}:{f.end_col}; "
                                   "the file changed since the scan?")
            else:
                nodes.setdefault(node, []).append(i)
        return nodes

    def _refuse(self, indexes: list[int], reason: str) -> None:
        for i in indexes:
            self.reasons[i] = reason

    def _nest(self, targets: dict[cst.Call, _Target]) -> list[_Target]:
        """Fold each target into the nearest enclosing one that runs in a thread.

        A root that must become a lambda but cannot (``:=``, ``await``, ``yield``, ``super()`` inside)
        is refused, and its inner calls are folded again without it.
        """
        while True:
            for t in targets.values():
                t.absorbed = []
            roots = []
            for t in targets.values():
                owner = self._owner(t, targets)
                (owner.absorbed if owner is not None else roots).append(t)
            hazards = [(t, h) for t in roots if t.lazy and (h := lambda_hazard(t.node)) is not None]
            if not hazards:
                return roots
            for t, reason in hazards:
                self._refuse(t.findings, reason)
                del targets[t.node]

    def _owner(self, t: _Target, targets: dict[cst.Call, _Target]) -> _Target | None:
        current = self.parent(t.node)
        while current is not None:
            owner = targets.get(current)  # type: ignore[call-overload]
            if owner is not None and not owner.sleep:
                return owner
            current = self.parent(current)
        return None


# ---------------------------------------------------------------------------------------------
# The codemod
# ---------------------------------------------------------------------------------------------

class OffloadCommand(VisitorBasedCodemodCommand):
    """Replace blocking calls in ``async def`` bodies with ``await asyncio.to_thread(...)``.

    ``f(a, b=c)`` becomes ``await asyncio.to_thread(f, a, b=c)``; chains and calls with blocking
    arguments become ``await asyncio.to_thread(lambda: ...)``; a direct ``time.sleep(x)`` becomes
    ``await asyncio.sleep(x)``. ``import asyncio`` is added once when no usable spelling exists.
    """

    DESCRIPTION = "Offload blocking calls in async functions with asyncio.to_thread / asyncio.sleep."
    METADATA_DEPENDENCIES = (PositionProvider, ParentNodeProvider)

    def __init__(self, context: CodemodContext, findings: Sequence[Finding]) -> None:
        super().__init__(context)
        self.findings = list(findings)
        self.plan: dict[cst.Call, _Target] = {}
        self.names = AsyncioNames()
        self._reasons: dict[int, str] = {}
        self._fixed: set[int] = set()

    def fixed(self) -> list[Finding]:
        return [f for i, f in enumerate(self.findings) if i in self._fixed]

    def reviews(self) -> list[Review]:
        return [Review(f, self._reasons[i]) for i, f in enumerate(self.findings) if i in self._reasons]

    def _parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self.get_metadata(ParentNodeProvider, node, None)

    def visit_Module(self, node: cst.Module) -> bool:
        planner = _Planner(self.findings, self.metadata[PositionProvider], self._parent)  # type: ignore[arg-type]
        self.plan = {t.node: t for t in planner.plan()}
        self._reasons = planner.reasons
        self.names = asyncio_names(node)
        return True

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        target = self.plan.get(original_node)
        if target is None:
            return updated_node
        if target.sleep:
            call = build.sleep(self._asyncio("sleep"), updated_node)
        elif target.lazy:
            call = build.lazy(self._asyncio("to_thread"), updated_node)
        else:
            call = build.plain(self._asyncio("to_thread"), updated_node)
        self._fixed.update(target.all_findings())
        return build.awaited(call, updated_node, needs_parens(original_node, self._parent))

    def _asyncio(self, attr: str) -> cst.BaseExpression:
        ref, missing = self.names.reference(attr)
        if missing:
            AddImportsVisitor.add_needed_import(self.context, "asyncio")
        return ref


__all__ = ["OffloadCommand", "Review", "RewriteResult", "offload_source"]

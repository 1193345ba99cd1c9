"""Offload blocking calls off the event loop.

Rewrites each finding's call in place::

    x = f(a, b=c)                          ->  x = await asyncio.to_thread(f, a, b=c)
    rows = session.exec(select(X)).all()   ->  rows = await asyncio.to_thread(lambda: session.exec(select(X)).all())
    time.sleep(x)                          ->  await asyncio.sleep(x)
    n = f(x).size                          ->  n = (await asyncio.to_thread(f, x)).size
    c = self.client  # a blocking @property ->  c = await asyncio.to_thread(lambda: self.client)

Before that, blocks of blocking work (a sync ``with`` around blocking calls, an ``if`` on a
blocking test, a loop of blocking statements, a whole body without ``await``) move into a sync
helper run by one ``await asyncio.to_thread(_f_sync, ...)`` (``offload_blocks``); their findings
are fixed together and the per-call rewrite skips them.

A call whose arguments (or receiver) hold another blocking call, and a call whose result is read
by further method calls, moves into the thread as a whole inside a ``lambda``. Calls where
``await`` is illegal or changes meaning (lambdas, generator expressions, sync defs, decorators,
defaults, class bodies, the ``with`` items of a block that cannot move) are left alone and
reported for review.

The function is pure: source and findings in, new source and the fate of every finding out.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import libcst as cst
from libcst.codemod import CodemodContext, VisitorBasedCodemodCommand
from libcst.codemod.visitors import AddImportsVisitor
from libcst.metadata import (
    CodeRange,
    ExpressionContextProvider,
    MetadataWrapper,
    ParentNodeProvider,
    PositionProvider,
    ScopeProvider,
)

from . import offload_build as build
from .analysis import Finding
from .elide import elide
from .imports import AsyncioNames, add_asyncio_import, asyncio_names
from .offload_blocks import BlockPlan, place_helpers, plan_blocks
from .offload_flow import FlowIndex
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
    """Rewrite the blocking calls of ``findings`` (all from this one source) to run off the loop.

    Functions without findings are elided first (``elide``): libcst then parses and analyses only the
    functions being rewritten, and their original text is put back unchanged afterwards.
    """
    if not findings:
        return RewriteResult(source)
    try:
        return _offload_source(source, findings)
    except RecursionError:  # libcst parses, visits and prints one Python frame per nesting level
        return _unchanged(source, findings, RECURSION)


def _offload_source(source: str, findings: list[Finding]) -> RewriteResult:
    elision = elide(source, [(f.line, f.end_line) for f in findings], )
    if elision is not None:
        result = _offload(elision.source, findings)
        restored = elision.restore(result.code) if result.code != elision.source else source
        if restored is not None and not (restored != source and _compile_error(restored)):
            return RewriteResult(restored, result.fixed, result.review)
    return _offload(source, findings)


def _offload(source: str, findings: list[Finding]) -> RewriteResult:
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
    except RecursionError:
        raise  # not a bug of the rewrite: offload_source reports it
    except Exception as exc:  # noqa: BLE001 - a bug in the rewrite must never corrupt the user's file
        return _unchanged(source, findings, f"internal error in the offload rewrite: {exc!r}")
    if code != source:
        error = _compile_error(code)
        if error:
            return _unchanged(source, findings, f"rewrite did not compile: {error}")
    return RewriteResult(code, command.fixed(), command.reviews())


RECURSION = "too deeply nested for the rewriter (RecursionError)"  # same words as cli.rewrite's


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
    node: cst.BaseExpression  # a call, or the attribute read of a blocking property
    findings: list[int]  # indexes into the finding list
    chain: bool  # the node reads further methods of the blocking result (or is a merged chain), or is no call
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


def _map_calls(findings: Sequence[Finding], positions: Mapping[cst.CSTNode, CodeRange],
               reasons: dict[int, str]) -> dict[int, cst.BaseExpression]:
    """The node of each finding; findings without one get a reason in ``reasons``.

    That is a call, or an attribute read (``self.client``) when the finding is a project
    ``@property`` that blocks: reading it runs the property.
    """
    calls: dict[tuple[int, int, int, int], cst.BaseExpression] = {}
    reads: dict[tuple[int, int, int, int], cst.BaseExpression] = {}
    for n, r in positions.items():
        if isinstance(n, cst.Call):
            calls[_key(r)] = n
        elif isinstance(n, cst.Attribute):
            reads[_key(r)] = n
    out: dict[int, cst.BaseExpression] = {}
    for i, f in enumerate(findings):
        key = (f.line, f.col, f.end_line, f.end_col)
        node = calls.get(key) or reads.get(key)
        if node is None:
            reasons[i] = (f"no call found at {f.line}:{f.col}-{f.end_line}:{f.end_col}; "
                          "the file changed since the scan?")
        else:
            out[i] = node
    return out


class _Planner:
    def __init__(self, findings: Sequence[Finding], calls: dict[int, cst.BaseExpression], parent: Parent,
                 refused_withs: Mapping[cst.With, str]):
        self.findings = findings
        self.parent = parent
        self.calls = calls  # the findings left to the per-call rewrite
        self.refused_withs = refused_withs
        self.reasons: dict[int, str] = {}

    def plan(self) -> list[_Target]:
        """The outermost rewrites; reasons for the rest land in ``self.reasons``."""
        nodes = self._map()
        blocked = {w: self.refused_withs.get(w, "") for n in nodes
                   if (w := with_item_statement(n, self.parent)) is not None}
        targets: dict[cst.BaseExpression, _Target] = {}
        for node, indexes in nodes.items():
            reason = _not_offloadable(self.findings[i] for i in indexes) or refusal(node, self.parent, blocked)
            if reason is not None:
                self._refuse(indexes, reason)
                continue
            top = extend_chain(node, self.parent)
            # a property read has no call to hand to to_thread: it moves as `lambda: obj.attr`
            chain = top is not node or not isinstance(node, cst.Call) or any(self.findings[i].chained for i in indexes)
            sleep = not chain and all(_is_sleep(self.findings[i]) for i in indexes)
            if top in targets:  # a blocking receiver and a blocking method call on it
                targets[top].findings += indexes
                targets[top].chain = True
                targets[top].sleep = False
            else:
                targets[top] = _Target(top, list(indexes), chain, sleep)
        return self._nest(targets)

    def _map(self) -> dict[cst.BaseExpression, list[int]]:
        nodes: dict[cst.BaseExpression, list[int]] = {}
        for i, node in self.calls.items():
            nodes.setdefault(node, []).append(i)
        return nodes

    def _refuse(self, indexes: list[int], reason: str) -> None:
        for i in indexes:
            self.reasons[i] = reason

    def _nest(self, targets: dict[cst.BaseExpression, _Target]) -> list[_Target]:
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

    def _owner(self, t: _Target, targets: dict[cst.BaseExpression, _Target]) -> _Target | None:
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

class _OwnTree:
    """Resolve metadata on the tree as given instead of a deep copy of it (what ``Codemod`` does by
    default, about a tenth of a large file's rewrite): the tree is parsed for this one rewrite and
    nothing else holds it. Also used for the import pass that follows."""

    @contextmanager
    def _handle_metadata_reference(self, module: cst.Module) -> Iterator[cst.Module]:
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        with self.resolve(wrapper):  # type: ignore[attr-defined]
            old, self.context = self.context, replace(self.context, wrapper=wrapper)  # type: ignore[has-type]
            try:
                yield wrapper.module
            finally:
                self.context = replace(self.context, wrapper=old.wrapper)

    def _instantiate_and_run(self, transform: type, tree: cst.Module) -> cst.Module:
        # The rewritten tree may hold one node object in two places; only a pass that needs no metadata
        # (AddImportsVisitor) may skip the copy that makes every node unique.
        if transform.get_inherited_dependencies():  # type: ignore[attr-defined]
            return super()._instantiate_and_run(transform, tree)  # type: ignore[misc]
        return _own_tree(transform)(self.context).transform_module(tree)  # type: ignore[attr-defined]


@functools.cache
def _own_tree(transform: type) -> type:
    return type(f"OwnTree{transform.__name__}", (_OwnTree, transform), {})


class OffloadCommand(_OwnTree, VisitorBasedCodemodCommand):
    """Replace blocking calls in ``async def`` bodies with ``await asyncio.to_thread(...)``.

    ``f(a, b=c)`` becomes ``await asyncio.to_thread(f, a, b=c)``; chains and calls with blocking
    arguments become ``await asyncio.to_thread(lambda: ...)``; a direct ``time.sleep(x)`` becomes
    ``await asyncio.sleep(x)``. ``import asyncio`` is added once when no usable spelling exists: into the sorted
    stdlib import block when there is one, else where ``AddImportsVisitor`` puts it.
    """

    DESCRIPTION = "Offload blocking calls in async functions with asyncio.to_thread / asyncio.sleep."
    METADATA_DEPENDENCIES = (PositionProvider, ParentNodeProvider, ScopeProvider, ExpressionContextProvider)

    def __init__(self, context: CodemodContext, findings: Sequence[Finding]) -> None:
        super().__init__(context)
        self.findings = list(findings)
        self.plan: dict[cst.BaseExpression, _Target] = {}
        self.names = AsyncioNames()
        self._reasons: dict[int, str] = {}
        self._fixed: set[int] = set()
        self._import_needed = False
        self.blocks = BlockPlan()

    def fixed(self) -> list[Finding]:
        return [f for i, f in enumerate(self.findings) if i in self._fixed]

    def reviews(self) -> list[Review]:
        return [Review(f, self._reasons[i]) for i, f in enumerate(self.findings) if i in self._reasons]

    def _parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self.get_metadata(ParentNodeProvider, node, None)

    def visit_Module(self, node: cst.Module) -> bool:
        self.names = asyncio_names(node)
        positions = self.metadata[PositionProvider]
        unmapped: dict[int, str] = {}
        calls = _map_calls(self.findings, positions, unmapped)  # type: ignore[arg-type]
        index = FlowIndex(self.metadata[ScopeProvider], positions, self.metadata[ExpressionContextProvider],  # type: ignore[arg-type]
                          self._parent)
        self.blocks = plan_blocks(node, self.findings, calls, index, lambda: self._asyncio("to_thread"))
        self._fixed.update(self.blocks.fixed)
        rest = {i: c for i, c in calls.items() if i not in self.blocks.fixed}
        planner = _Planner(self.findings, rest, self._parent, self.blocks.refused_withs)
        self.plan = {t.node: t for t in planner.plan()}
        self._reasons = {**unmapped, **planner.reasons}
        return True

    # -- block extractions (offload_blocks) ------------------------------------------------------

    def _replace_unit(self, original: cst.BaseStatement, updated: cst.BaseStatement) -> cst.BaseStatement:
        return self.blocks.replaced.get(original, updated)

    def leave_With(self, original_node: cst.With, updated_node: cst.With) -> cst.BaseStatement:
        return self._replace_unit(original_node, updated_node)

    def leave_If(self, original_node: cst.If, updated_node: cst.If) -> cst.BaseStatement:
        return self._replace_unit(original_node, updated_node)

    def leave_For(self, original_node: cst.For, updated_node: cst.For) -> cst.BaseStatement:
        return self._replace_unit(original_node, updated_node)

    def leave_While(self, original_node: cst.While, updated_node: cst.While) -> cst.BaseStatement:
        return self._replace_unit(original_node, updated_node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        body = self.blocks.bodies.get(original_node)
        return updated_node if body is None else updated_node.with_changes(body=body)

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock,
                            updated_node: cst.IndentedBlock) -> cst.IndentedBlock:
        body = place_helpers(original_node.body, updated_node.body, self.blocks.helpers, 1)
        return updated_node if body is None else updated_node.with_changes(body=body)

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

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        """A blocking ``@property`` read: ``await asyncio.to_thread(lambda: obj.attr)``."""
        target = self.plan.get(original_node)
        if target is None:
            return updated_node
        call = build.lazy(self._asyncio("to_thread"), updated_node)
        self._fixed.update(target.all_findings())
        return build.awaited(call, updated_node, needs_parens(original_node, self._parent))

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        body = place_helpers(original_node.body, updated_node.body, self.blocks.helpers, 2)
        if body is not None:
            updated_node = updated_node.with_changes(body=body)
        if not self._import_needed:
            return updated_node
        placed = add_asyncio_import(updated_node)
        if placed is not None:
            return placed
        AddImportsVisitor.add_needed_import(self.context, "asyncio")
        return updated_node

    def _asyncio(self, attr: str) -> cst.BaseExpression:
        ref, missing = self.names.reference(attr)
        self._import_needed = self._import_needed or missing
        return ref


__all__ = ["OffloadCommand", "Review", "RewriteResult", "offload_source"]

"""Rewrite one file by its ``FilePlan``: native calls, ``async def``, ``await``, un-offloaded calls.

One parse, one transformer, then each used target's ``rewrite_module``, then imports::

    time.sleep(x)                          ->  await asyncio.sleep(x)           (a target's rewrite_call)
    def helper(): ...                      ->  async def helper(): ...          (becomes async)
    y = helper().value                     ->  y = (await helper()).value       (calls it: awaited)
    await asyncio.to_thread(helper, x)     ->  await helper(x)                  (offloaded, now async)
    await asyncio.to_thread(lambda: f(x))  ->  await f(x)

A site is mapped to its node by exact position (the scan's character columns are libcst's). A site
where ``await`` is illegal or changes meaning is left alone and reported; a rewrite that does not
compile leaves the file unchanged (everything reported). The function is pure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import libcst as cst
import libcst.matchers as m
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor
from libcst.metadata import CodeRange, MetadataWrapper, ParentNodeProvider, PositionProvider

from .. import offload_build as build
from ..analysis import Finding
from ..imports import add_asyncio_import, asyncio_names
from ..offload import _map_calls, _Planner, _Target
from ..offload_placement import WITH_BLOCK, lambda_hazard, needs_parens, refusal
from .base import NativeConfig, Refusal, Target, TargetContext, awaited
from .def_paths import DefPath, DefPathStack
from .plan import Feedback, FilePlan, NativePlan, Pos

Review = list[tuple[Finding, str]]
_OFFLOADERS = {"to_thread": 0, "run_sync": 0, "run_in_threadpool": 0}
_SYNC_DEF_REASONS = ("inside a nested sync def", "inside a comprehension in a sync function")


@dataclass
class NativeResult:
    """One file's rewrite: the new source, what it fixed, what it left, and what the next plan must know."""

    code: str
    fixed: list[Finding] = field(default_factory=list)  # blocking calls made native
    review: Review = field(default_factory=list)
    offloaded: list[Finding] = field(default_factory=list)  # blocking calls put in ``asyncio.to_thread``
    # planned sites left as they are (target refusal, illegal await / to_thread): (path, line, col) -> reason
    refused: dict[tuple[str, int, int], str] = field(default_factory=dict)
    target_async: set[tuple[int, str]] = field(default_factory=set)  # (line, name): made async by a target


def native_source(source: str, path: str, file_plan: FilePlan, targets: Sequence[Target],
                  config: NativeConfig | None = None) -> tuple[str, list[Finding], Review]:
    """``source`` rewritten by ``file_plan``: (new source, findings fixed, [(finding, reason)] for review)."""
    r = native_file(source, path, file_plan, targets, config)
    return r.code, r.fixed, r.review


def native_file(source: str, path: str, file_plan: FilePlan, targets: Sequence[Target],
                config: NativeConfig | None = None) -> NativeResult:
    """``source`` rewritten by ``file_plan``, with the driver's feedback for the next plan."""
    config = config or NativeConfig()
    result = _native_file(source, path, file_plan, targets, config)
    reasons = {id(f): why for f, why in result.review}
    done = {id(f) for f in result.fixed} | {id(f) for f in result.offloaded}
    for f in [f for f, _ in file_plan.convert] + file_plan.offload:
        if id(f) not in done:
            result.refused.setdefault((f.path, f.line, f.col), reasons.get(id(f), "left as it is by the driver"))
    return result


def _native_file(source: str, path: str, file_plan: FilePlan, targets: Sequence[Target],
                 config: NativeConfig) -> NativeResult:
    planned = [f for f, _ in file_plan.convert] + [f for kind, f, _ in file_plan.unoffload.values() if f is not None] \
        + file_plan.offload
    review: Review = list(file_plan.review)
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        return NativeResult(source, [], review + [(f, f"source is not parseable by libcst: {exc.message}")
                                                  for f in planned])
    if module.code != source:
        return NativeResult(source, [], review + [(f, "libcst does not round-trip this file byte for byte")
                                                  for f in planned])
    error = compile_error(source)
    if error:
        return NativeResult(source, [], review + [(f, f"source does not compile: {error}") for f in planned])
    try:
        result = _rewrite(module, path, file_plan, targets, config)
    except Exception as exc:  # noqa: BLE001 - a bug in the rewrite must never corrupt the user's file
        return NativeResult(source, [], review + [(f, f"internal error in the native rewrite: {exc!r}")
                                                  for f in planned])
    result.review[:0] = review
    if result.code != source:
        error = compile_error(result.code)
        if error:
            return NativeResult(source, [], result.review + [(f, f"rewrite did not compile: {error}")
                                                             for f in result.fixed + result.offloaded])
    return result


def compile_error(code: str) -> str:
    try:
        compile(code, "<native>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None)
        return f"{getattr(exc, 'msg', exc)}" + (f" (line {line})" if line else "")
    return ""


def _key(r: CodeRange) -> Pos:
    return (r.start.line, r.start.column, r.end.line, r.end.column)


def _pos(f: Finding) -> Pos:
    return (f.line, f.col, f.end_line, f.end_col)


def _rewrite(module: cst.Module, path: str, fp: FilePlan, targets: Sequence[Target],
             config: NativeConfig) -> tuple[str, list[Finding], Review]:
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    parents = wrapper.resolve(ParentNodeProvider)
    by_pos: dict[Pos, list[cst.CSTNode]] = {}
    defs: dict[tuple[int, str], cst.FunctionDef] = {}
    for node, r in positions.items():
        if isinstance(node, (cst.Call, cst.Name, cst.Attribute)):
            by_pos.setdefault(_key(r), []).append(node)
        if isinstance(node, cst.FunctionDef):
            defs[(positions[node.name].start.line, node.name.value)] = node
    make_async = {defs[k] for k in fp.make_async if k in defs}
    # functions a target makes async itself (session factories): async for the targets, left to them
    target_async = {defs[k] for k in fp.target_async if k in defs}
    synthetic_parent: dict[cst.CSTNode, cst.CSTNode | None] = {}

    def parent(node: cst.CSTNode) -> cst.CSTNode | None:
        if node in synthetic_parent:
            return synthetic_parent[node]
        return parents.get(node)

    def enclosing_function(node: cst.CSTNode) -> cst.FunctionDef | None:
        current = parent(node)
        while current is not None and not isinstance(current, cst.FunctionDef):
            current = parent(current)
        return current

    def is_async_after(fn: cst.FunctionDef) -> bool:
        return fn.asynchronous is not None or fn in make_async or fn in target_async

    ctx = TargetContext(config, module, path, is_async_after, enclosing_function, parent)
    by_name = {t.name: t for t in targets}
    review: Review = []
    missing = [f for f, _ in fp.convert if _call_at(by_pos, _pos(f)) is None]
    review += [(f, f"no call found at {f.line}:{f.col}-{f.end_line}:{f.end_col}; the file changed since the scan?")
               for f in missing]
    offload, refused = _plan_offload(fp.offload, positions, parent, make_async)
    review += [(fp.offload[i], f"not offloaded: {why}") for i, why in sorted(refused.items())]
    transformer = _Transformer(fp, by_pos, by_name, ctx, make_async, parent, synthetic_parent, offload)
    new = module.visit(transformer)
    review += transformer.review
    order = [t.name for t in targets]
    for name in sorted(transformer.used | (fp.module_targets & set(by_name)), key=order.index):
        new = by_name[name].rewrite_module(new, ctx)
    new = _imports(new, ctx, fp.module.split(".", 1)[0])
    code = new.code
    result = NativeResult(code, transformer.fixed, review + [(f or _line_finding(path, line, fp), why)
                                                            for f, line, why in ctx.review],
                          offloaded=transformer.offloaded_fixed)
    if code != module.code:
        result.target_async = _made_async(module, positions, new, set(fp.make_async) | set(fp.target_async))
    return result


def _plan_offload(findings: list[Finding], positions: Mapping[cst.CSTNode, CodeRange], parent,
                  make_async: set[cst.FunctionDef]) -> tuple[dict[cst.Call, _Target], dict[int, str]]:
    """The offload codemod's per-call planner over the plan's unhandled blocking calls.

    Its placement checks see the functions that become async as ``async def`` (a proxy node stands for
    each), so ``await`` is legal in them; a ``with`` item is refused (its ``__exit__`` would run on the loop),
    there are no block extractions (sync helpers): native awaits in place.
    """
    if not findings:
        return {}, {}
    proxies: dict[cst.FunctionDef, cst.FunctionDef] = {}
    originals: dict[cst.CSTNode, cst.CSTNode] = {}

    def offload_parent(node: cst.CSTNode) -> cst.CSTNode | None:
        up = parent(originals.get(node, node))
        if isinstance(up, cst.FunctionDef) and up in make_async:
            proxy = proxies.get(up)
            if proxy is None:
                proxy = proxies[up] = up.with_changes(asynchronous=cst.Asynchronous())
                originals[proxy] = up
            return proxy
        return up

    reasons: dict[int, str] = {}
    calls = _map_calls(findings, positions, reasons)
    planner = _Planner(findings, calls, offload_parent, {})
    roots = planner.plan()
    reasons.update(planner.reasons)
    return {t.node: t for t in roots}, reasons


def _def_paths(module: cst.Module) -> dict[DefPath, cst.FunctionDef]:
    """Every function of ``module`` by its nesting path (class and def names with their rank among siblings)."""
    out: dict[DefPath, cst.FunctionDef] = {}
    where = DefPathStack()

    class Walk(cst.CSTVisitor):
        def visit_ClassDef(self, node: cst.ClassDef) -> None:
            where.push("class " + node.name.value)

        def leave_ClassDef(self, node: cst.ClassDef) -> None:
            where.pop()

        def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
            out[where.push(node.name.value)] = node

        def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
            where.pop()

    module.visit(Walk())
    return out


def _made_async(before: cst.Module, positions: Mapping[cst.CSTNode, CodeRange], after: cst.Module,
                planned: set[tuple[int, str]]) -> set[tuple[int, str]]:
    """(line, name) of the sync functions of ``before`` that are async in ``after`` without the plan asking."""
    new = _def_paths(after)
    out = set()
    for path, fn in _def_paths(before).items():
        other = new.get(path)
        if fn.asynchronous is None and other is not None and other.asynchronous is not None:
            key = (positions[fn.name].start.line, fn.name.value)
            if key not in planned:
                out.add(key)
    return out


def _line_finding(path: str, line: int, fp: FilePlan) -> Finding:
    return Finding(path, line, 0, line, 0, "AM900", "", fp.module, "", kind="native")


def _call_at(by_pos: dict[Pos, list[cst.CSTNode]], pos: Pos) -> cst.Call | None:
    return next((n for n in by_pos.get(pos, ()) if isinstance(n, cst.Call)), None)


class _Transformer(cst.CSTTransformer):
    """The per-node rewrites of the plan (see the module docstring)."""

    def __init__(self, fp: FilePlan, by_pos: dict[Pos, list[cst.CSTNode]], targets: dict[str, Target],
                 ctx: TargetContext, make_async: set[cst.FunctionDef], parent, synthetic_parent,
                 offload: dict[cst.Call, _Target] | None = None) -> None:
        super().__init__()
        self.fp = fp
        self.offload = offload or {}
        self.offloaded_fixed: list[Finding] = []
        self.targets = targets
        self.ctx = ctx
        self.make_async = make_async
        self.parent = parent
        self.synthetic_parent = synthetic_parent
        self.review: Review = []
        self.fixed: list[Finding] = []
        self.used: set[str] = set()
        self.convert: dict[cst.Call, tuple[Finding, str]] = {}
        for f, name in fp.convert:
            node = _call_at(by_pos, _pos(f))
            if node is not None:
                self.convert[node] = (f, name)
        self.awaits = {n for p in fp.await_calls if (n := _call_at(by_pos, p)) is not None}
        # `with f() as x:` where f() is now an async context manager (a session factory): `async with`
        self.async_with = {n for p in fp.async_with if (n := _call_at(by_pos, p)) is not None}
        # offloaded sites: the `f` of to_thread(f, ...) or a call inside to_thread(lambda: ...)
        self.offloaded: dict[cst.CSTNode, tuple[str, Finding | None, str]] = {}
        for p, action in fp.unoffload.items():
            nodes = by_pos.get(p, ())
            node = next((n for n in nodes if isinstance(n, cst.Call)), None) or next(iter(nodes), None)
            if node is not None:
                self.offloaded[node] = action
        self.unwrapped: dict[cst.Call, str] = {}  # to_thread calls replaced: "plain" (f(x)) | "lambda"
        self._plan_offloaded()

    # ----- offloaded calls --------------------------------------------------------------------------
    def _offloader(self, node: cst.CSTNode) -> tuple[cst.Call, int] | None:
        """The ``to_thread(...)`` call whose offloaded argument is ``node`` (or holds it in a lambda)."""
        current, child = self.parent(node), node
        while current is not None and not isinstance(current, (cst.FunctionDef, cst.ClassDef)):
            if isinstance(current, cst.Call):
                head = current.func.attr.value if isinstance(current.func, cst.Attribute) else \
                    getattr(current.func, "value", "")
                index = _OFFLOADERS.get(head)
                if index is not None and len(current.args) > index and current.args[index] is child:
                    return current, index
            child, current = current, self.parent(current)
        return None

    def _plan_offloaded(self) -> None:
        """Which to_thread calls are replaced; every offloaded site of a replaced lambda must be planned."""
        groups: dict[cst.Call, list[cst.CSTNode]] = {}
        for node in self.offloaded:
            found = self._offloader(node)
            if found is None:
                self._refuse_offloaded(node, "not the function argument of a to_thread/run_sync call")
                continue
            call, index = found
            arg = call.args[index].value
            if arg is node:
                kind = "plain"
            elif isinstance(arg, cst.Lambda) and not arg.params.params and not arg.params.posonly_params \
                    and not isinstance(arg.params.star_arg, cst.Param) and not arg.params.kwonly_params \
                    and arg.params.star_kwarg is None:
                kind = "lambda"
            else:
                self._refuse_offloaded(node, "offloaded through a lambda with parameters")
                continue
            if not isinstance(self.parent(call), cst.Await):
                self._refuse_offloaded(node, "the to_thread call is not awaited in place (a task, gather...): "
                                             "rewrite it by hand")
                continue
            self.unwrapped[call] = kind
            groups.setdefault(call, []).append(node)

    def _refuse_offloaded(self, node: cst.CSTNode, reason: str) -> None:
        kind, finding, _ = self.offloaded[node]
        if finding is None:
            finding = _call_finding(self.ctx.path, self.fp.module, node, self.ctx)
            reason += "; the function it runs becomes async: this call must be rewritten by hand"
        self.review.append((finding, f"offloaded call left as is: {reason}"))

    # ----- placement ----------------------------------------------------------------------------------
    def _refusal(self, node: cst.CSTNode) -> str | None:
        reason = refusal(node, self.parent)
        if reason is not None and reason.startswith(WITH_BLOCK):
            # offload must move a blocking `with` into a sync helper; native awaits in place (and the files
            # target turns `with open(...)` into `async with aiofiles.open(...)`), so a with is no obstacle
            return None
        if reason is not None and reason.startswith(_SYNC_DEF_REASONS):
            fn = self.ctx.enclosing_function(node)
            if fn is not None and fn in self.make_async:
                return None
        return reason

    def _place(self, expr: cst.BaseExpression, original: cst.CSTNode) -> cst.BaseExpression:
        if isinstance(expr, cst.Await) and not expr.lpar and needs_parens(original, self.parent):  # type: ignore[arg-type]
            return expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        return expr

    # ----- visitors -----------------------------------------------------------------------------------
    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        if original_node in self.make_async and updated_node.asynchronous is None:
            return updated_node.with_changes(asynchronous=cst.Asynchronous())
        return updated_node

    def leave_With(self, original_node: cst.With, updated_node: cst.With) -> cst.BaseStatement:
        if updated_node.asynchronous is None and len(original_node.items) == 1 \
                and original_node.items[0].item in self.async_with:
            return updated_node.with_changes(asynchronous=cst.Asynchronous())
        return updated_node

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if original_node in self.unwrapped:
            return self._unwrap(original_node, updated_node)
        if original_node in self.convert:
            finding, name = self.convert[original_node]
            return self._convert(original_node, updated_node, finding, name, check=True)
        action = self.offloaded.get(original_node)
        if action is not None and self._offloader(original_node) is not None \
                and self._offloader(original_node)[0] in self.unwrapped:  # type: ignore[index]
            kind, finding, name = action
            if kind == "api" and finding is not None:
                return self._convert(original_node, updated_node, finding, name, check=False)
            return awaited(updated_node)
        if original_node in self.awaits:
            reason = self._refusal(original_node)
            if reason is not None:
                self.review.append((_call_finding(self.ctx.path, self.fp.module, original_node, self.ctx),
                                    f"cannot await the call here ({reason}); the function it calls becomes async"))
                return updated_node
            return self._place(awaited(updated_node), original_node)
        target = self.offload.get(original_node)
        if target is not None:
            return self._offload(original_node, updated_node, target)
        return updated_node

    def _offload(self, original: cst.Call, updated: cst.Call, target: _Target) -> cst.BaseExpression:
        """``f(x)`` -> ``await asyncio.to_thread(f, x)`` (the offload codemod's node builders)."""
        findings = [self.fp.offload[i] for i in target.all_findings()]
        if target.lazy:
            hazard = lambda_hazard(updated)  # a call inside it was made native (awaited) by this rewrite
            if hazard is not None:
                self.review += [(f, f"not offloaded: {hazard}") for f in findings]
                return updated
        self.ctx.add_import("asyncio")
        asyncio_ref = cst.Name("asyncio")
        if target.sleep:
            call = build.sleep(cst.Attribute(asyncio_ref, cst.Name("sleep")), updated)
        elif target.lazy:
            call = build.lazy(cst.Attribute(asyncio_ref, cst.Name("to_thread")), updated)
        else:
            call = build.plain(cst.Attribute(asyncio_ref, cst.Name("to_thread")), updated)
        self.offloaded_fixed += findings
        return build.awaited(call, updated, needs_parens(original, self.parent))

    def _convert(self, original: cst.Call, updated: cst.Call, finding: Finding, name: str,
                 check: bool) -> cst.BaseExpression:
        reason = self._refusal(original) if check else None
        if reason is not None:
            self.review.append((finding, f"not converted: {reason}"))
            return updated
        target = self.targets.get(name)
        if target is None:
            self.review.append((finding, f"not converted: target {name!r} is not selected"))
            return updated
        result = target.rewrite_call(updated, original, finding, self.ctx)
        if isinstance(result, Refusal):
            self.review.append((finding, f"{name}: {result.reason}"))
            return updated
        self.used.add(name)
        self.fixed.append(finding)
        return self._place(result, original) if check else result

    def _unwrap(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        """``to_thread(f, *a, **k)`` -> ``f(*a, **k)``; ``to_thread(lambda: body)`` -> ``body``."""
        head = updated.func.attr.value if isinstance(updated.func, cst.Attribute) else \
            getattr(updated.func, "value", "")
        index = _OFFLOADERS[head]
        arg = updated.args[index].value
        if self.unwrapped[original] == "lambda":
            assert isinstance(arg, cst.Lambda)
            return arg.body
        rest = list(updated.args[index + 1:])
        if rest:
            last = rest[-1]
            rest[-1] = last.with_changes(comma=cst.MaybeSentinel.DEFAULT) if updated.args[-1] is last else last
        call = cst.Call(func=arg, args=rest)
        action = self.offloaded[original.args[index].value]
        kind, finding, name = action
        if kind == "api" and finding is not None:
            self.synthetic_parent[call] = self.parent(original)
            result = self._convert(original, call, finding, name, check=False)
            return result if result is not call else updated
        return awaited(call)

    def leave_Await(self, original_node: cst.Await, updated_node: cst.Await) -> cst.BaseExpression:
        inner = original_node.expression
        if not (isinstance(inner, cst.Call) and inner in self.unwrapped):
            return updated_node
        new = updated_node.expression
        if new is inner or (isinstance(new, cst.Call) and _is_offloader_call(new)):
            return updated_node  # refused: the to_thread call stays
        if isinstance(new, (cst.Await, cst.Call, cst.Attribute, cst.Name, cst.Subscript)) or new.lpar:
            if updated_node.lpar and isinstance(new, cst.Await) and not new.lpar:
                return new.with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar)
            return new
        return new.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


def _is_offloader_call(call: cst.Call) -> bool:
    head = call.func.attr.value if isinstance(call.func, cst.Attribute) else getattr(call.func, "value", "")
    return head in _OFFLOADERS


def _call_finding(path: str, module: str, node: cst.CSTNode, ctx: TargetContext) -> Finding:
    return Finding(path, 0, 0, 0, 0, "AM900", cst.Module([]).code_for_node(node)[:60], module, "", kind="native")


# ---------------------------------------------------------------------------------------------
# Imports
# ---------------------------------------------------------------------------------------------

def _imports(module: cst.Module, ctx: TargetContext, first_party: str = "") -> cst.Module:
    """Drop the imports targets asked to drop (when unused), then add theirs: ``import asyncio`` into the
    sorted stdlib block, third-party imports at the end of the third-party group (before the project's)."""
    context = CodemodContext()
    for mod, obj, asname in ctx.drop_imports:
        RemoveImportsVisitor.remove_unused_import(context, mod, obj, asname)
    if context.scratch.get(RemoveImportsVisitor.CONTEXT_KEY):
        module = _keep_blank_lines(module, RemoveImportsVisitor(context).transform_module(module))
    context = CodemodContext()
    needs_asyncio = False
    fallback = False
    for mod, obj, asname in sorted(ctx.imports, key=lambda i: (i[0], i[1] or "", i[2] or "")):
        if mod == "asyncio" and obj is None and asname is None:
            needs_asyncio = True
            continue
        if _imported(module, mod, obj, asname):
            continue
        placed = _place_import(module, mod, obj, asname, first_party)
        if placed is None:
            AddImportsVisitor.add_needed_import(context, mod, obj, asname)
            fallback = True
        else:
            module = placed
    if needs_asyncio and asyncio_names(module).module_alias != "asyncio":
        placed = add_asyncio_import(module) or _first_import(module, "asyncio")
        if placed is not None:
            module = placed
        else:
            AddImportsVisitor.add_needed_import(context, "asyncio")
            fallback = True
    if fallback:
        module = AddImportsVisitor(context).transform_module(module)
    return module


def _keep_blank_lines(before: cst.Module, after: cst.Module) -> cst.Module:
    """Removed top-level import lines hand their leading blank lines and comments to the next kept statement."""
    out: list[cst.BaseStatement] = []
    j = 0
    run_start: int | None = None
    pending: Sequence[cst.EmptyLine] = ()
    for i, stmt in enumerate(before.body):
        kept = j < len(after.body) and (after.body[j].deep_equals(stmt) or not _is_import_line(stmt)
                                        or _is_import_line(after.body[j]) and _same_import(stmt, after.body[j]))
        if not kept:
            if run_start is None:
                run_start, pending = i, stmt.leading_lines  # type: ignore[attr-defined]
            continue
        new = after.body[j]
        j += 1
        if run_start is not None:
            own = new.leading_lines  # type: ignore[attr-defined]
            if run_start == 0 and _is_import_line(new):
                lines = pending  # the new first import: no blank line above it
            else:
                lines = pending if len(pending) > len(own) else own
            new = new.with_changes(leading_lines=lines)
            run_start, pending = None, ()
        out.append(new)
    out += after.body[j:]
    return after.with_changes(body=out)


def _is_import_line(stmt: cst.CSTNode) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 \
        and isinstance(stmt.body[0], (cst.Import, cst.ImportFrom))


def _same_import(a: cst.CSTNode, b: cst.CSTNode) -> bool:
    x, y = a.body[0], b.body[0]  # type: ignore[attr-defined]
    if type(x) is not type(y):
        return False
    if isinstance(x, cst.ImportFrom):
        return x.relative == y.relative and (x.module is None) == (y.module is None) and (
            x.module is None or x.module.deep_equals(y.module))
    return x.names[0].name.deep_equals(y.names[0].name)


def _import_line(mod: str, obj: str | None, asname: str | None) -> cst.SimpleStatementLine:
    if obj is None:
        text = f"import {mod}" + (f" as {asname}" if asname else "")
    else:
        text = f"from {mod} import {obj}" + (f" as {asname}" if asname else "")
    return cst.parse_statement(text + "\n")  # type: ignore[return-value]


def _top_imports(module: cst.Module) -> list[tuple[int, str]]:
    """(index, module name) of the leading top-level import lines ("." for relative imports)."""
    out = []
    for i, stmt in enumerate(module.body):
        if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
            if out or not (isinstance(stmt, cst.SimpleStatementLine) and isinstance(stmt.body[0], cst.Expr)):
                break
            continue
        small = stmt.body[0]
        if isinstance(small, cst.Import):
            out.append((i, cst.Module([]).code_for_node(small.names[0].name)))
        elif isinstance(small, cst.ImportFrom):
            name = "." if small.relative else cst.Module([]).code_for_node(small.module) if small.module else "."
            out.append((i, name))
        elif out:
            break
    return out


def _first_import(module: cst.Module, mod: str) -> cst.Module | None:
    """``import mod`` as a group of its own above the leading imports (no stdlib group to join)."""
    lines = [(i, n) for i, n in _top_imports(module) if n != "__future__"]
    body = list(module.body)
    if not lines:
        docstring = bool(body) and m.matches(body[0], m.SimpleStatementLine(body=[m.Expr(m.SimpleString())]))
        index = 1 if docstring else 0
        body.insert(index, _import_line(mod, None, None).with_changes(
            leading_lines=[cst.EmptyLine()] if docstring else []))
        return module.with_changes(body=body)
    index = lines[0][0]
    first = body[index]
    body[index] = first.with_changes(leading_lines=[cst.EmptyLine()])
    body.insert(index, _import_line(mod, None, None).with_changes(leading_lines=first.leading_lines))
    return module.with_changes(body=body)


def _imported(module: cst.Module, mod: str, obj: str | None, asname: str | None) -> bool:
    for stmt in module.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if obj is None and isinstance(small, cst.Import):
                for alias in small.names:
                    name = cst.Module([]).code_for_node(alias.name)
                    bound = alias.asname.name.value if alias.asname else None  # type: ignore[union-attr]
                    if name == mod and bound == asname:
                        return True
            elif obj is not None and isinstance(small, cst.ImportFrom) and small.module is not None \
                    and not small.relative and cst.Module([]).code_for_node(small.module) == mod \
                    and not isinstance(small.names, cst.ImportStar):
                for alias in small.names:
                    bound = alias.asname.name.value if alias.asname else None  # type: ignore[union-attr]
                    if cst.Module([]).code_for_node(alias.name) == obj and bound == asname:
                        return True
    return False


def _place_import(module: cst.Module, mod: str, obj: str | None, asname: str | None,
                  first_party: str) -> cst.Module | None:
    """``module`` with the import at the end of its third-party group; None when the layout is unclear."""
    import sys

    lines = _top_imports(module)
    if not lines:
        return None
    stdlib = frozenset(sys.stdlib_module_names) | {"__future__"}

    def group(name: str) -> int:
        top = name.split(".", 1)[0]
        return 0 if top in stdlib else 2 if name == "." or (first_party and top == first_party) else 1

    new = _import_line(mod, obj, asname)
    body = list(module.body)
    third = [(i, n) for i, n in lines if group(n) == 1]
    if third:
        # sorted position inside the third-party group when it is sorted, else its end
        names = [n for _, n in third]
        position = third[-1][0] + 1
        if names == sorted(names):
            after = [i for i, n in third if n > mod]
            position = after[0] if after else position
            if after and after[0] == third[0][0]:  # becomes the group's first line: take its blank lines
                new = new.with_changes(leading_lines=body[position].leading_lines)
                body[position] = body[position].with_changes(leading_lines=[])
        body.insert(position, new)
        return module.with_changes(body=body)
    project = [i for i, n in lines if group(n) == 2]
    blank = [cst.EmptyLine()]
    if project:
        position = project[0]
        new = new.with_changes(leading_lines=body[position].leading_lines or blank)
        body[position] = body[position].with_changes(leading_lines=blank)
        body.insert(position, new)
        return module.with_changes(body=body)
    position = lines[-1][0] + 1
    body.insert(position, new.with_changes(leading_lines=blank))
    return module.with_changes(body=body)


# ---------------------------------------------------------------------------------------------
# A whole (small) project in memory: golden pairs and tests
# ---------------------------------------------------------------------------------------------

def native_project(sources: dict[str, str], targets: Sequence[Target] | None = None,
                   config: NativeConfig | None = None):
    """Plan and rewrite in-memory modules (``{"pkg/mod.py": source}``): ``(plan, {path: (code, fixed, review)})``.

    Module names come from the paths (``pkg/__init__.py`` -> ``pkg``). For tests and golden pairs.
    """
    from ..analysis import Analysis
    from ..catalog import Catalog
    from ..summary import summarize
    from .plan import build_plan
    from .targets import all_targets

    targets = all_targets() if targets is None else list(targets)
    summaries = []
    for path, source in sorted(sources.items()):
        parts = path[:-3].split("/")
        package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if package else parts)
        summaries.append(summarize(source, name, path, package))
    analysis = Analysis(summaries, Catalog())
    analysis.findings()
    cache: dict[str, tuple[FilePlan, NativeResult]] = {}

    def rewrite(plan: NativePlan) -> dict[str, NativeResult]:
        return {path: _cached(cache, path, fp, lambda fp=fp, path=path: native_file(sources[path], path, fp,
                                                                                    targets, config))
                for path, fp in plan.files.items()}

    plan, results, _ = native_rounds(lambda feedback: build_plan(analysis, targets, sources, feedback), rewrite)
    return plan, {path: (r.code, r.fixed, r.review) for path, r in results.items()}


def _cached(cache: dict[str, tuple[FilePlan, NativeResult]], path: str, fp: FilePlan,
            run: Callable[[], NativeResult]) -> NativeResult:
    hit = cache.get(path)
    if hit is not None and hit[0] == fp:
        return hit[1]
    result = run()
    cache[path] = (fp, result)
    return result


MAX_ROUNDS = 8


def native_rounds(make_plan: Callable[[Feedback], NativePlan],
                  rewrite: Callable[[NativePlan], Mapping[str, NativeResult]],
                  max_rounds: int = MAX_ROUNDS) -> tuple[NativePlan, Mapping[str, NativeResult], Feedback]:
    """Plan, rewrite, and plan again with what the rewrite refused, until nothing new is refused.

    A site a target refuses (or where ``await`` / ``to_thread`` cannot go) must not make its function
    async, and a function that becomes async anyway must not keep it on the loop: the planner pins it.
    Refusals only grow, so this converges; ``rewrite`` should reuse results for unchanged file plans.
    Returns the last plan, its rewrite, and the feedback it was built from.
    """
    feedback = Feedback()
    plan = make_plan(feedback)
    results = rewrite(plan)
    for _ in range(max_rounds - 1):
        grew = False
        for path, r in results.items():
            for key, why in r.refused.items():
                if key not in feedback.refused:
                    feedback.refused[key] = why
                    grew = True
            for line, name in r.target_async:
                if (path, line, name) not in feedback.target_async:
                    feedback.target_async.add((path, line, name))
                    grew = True
        if not grew:
            break
        plan = make_plan(feedback)
        results = rewrite(plan)
    return plan, results, feedback


__all__ = ["MAX_ROUNDS", "NativeResult", "compile_error", "native_file", "native_project", "native_rounds",
           "native_source"]

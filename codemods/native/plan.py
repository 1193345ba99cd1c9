"""Which calls the native phase converts, which functions become ``async def``, which calls get ``await``.

Input: an ``Analysis`` (after ``findings()``), the targets, and the project's sources (for the
references the summaries do not record: functions passed as callbacks or keys, calls inside lambdas,
at module level, in defaults or decorators). Output: a picklable ``NativePlan``, one ``FilePlan`` per
file to rewrite, and the *stops*: functions that must stay sync, each with its reason.

The decision, solved to a fixed point so one run converges:

1. a *converted site* is a blocking call (a direct finding, in an async or a sync project function)
   whose API some target ``handles``;
2. a sync function becomes async when it holds a converted site or calls (not through
   ``to_thread``) a function that becomes async, transitively up the call graph;
3. some functions cannot become async (``__init__``, properties, ``__enter__``/``__exit__``, dunders,
   generators, functions with unknown decorators, functions referenced as values or called where
   ``await`` is illegal): they are *pinned*. A function called by a pinned one is pinned too
   (it must stay sync for that caller); a pinned function's sites are not converted.
4. calls to functions that become async get ``await`` (in async callers); ``to_thread(f, x)`` of such
   a function, or of a handled API, becomes ``await f(x)`` / the native call;
5. "native where possible, offload the rest": a blocking call no target handles, inside a function that
   becomes async (a catalog API, or a call to a blocking project function that stays sync), is planned for
   ``await asyncio.to_thread(...)`` (the offload codemod's own planner and node builders, run by the driver),
   so making the function async never moves blocking work onto the loop;
6. the driver's outcome feeds back (``Feedback``, see ``apply.native_rounds``): a handled site its target
   refused, or an unhandled one that cannot be offloaded where it stands, does not make its function async,
   and a function that would become async anyway while holding such a site stays sync (pinned, with the
   reason): it would run that call on the loop. Functions a target turned async on its own (SQLAlchemy's
   session dependencies) are not reported as kept sync.

Everything is decided per function, callee-first; nothing here reads files or prints.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ..analysis import Analysis, Finding
from ..summary import CallSite, FunctionSummary
from .base import Target

Pos = tuple[int, int, int, int]  # line, col, end_line, end_col (1-based lines, 0-based character columns)

ROUTE_VERBS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "trace", "websocket",
                         "api_route", "route", "websocket_route"})
# Decorators that do not call the function themselves (or keep it awaitable when it is async).
NEUTRAL_DECORATORS = frozenset({"staticmethod", "classmethod", "functools.wraps", "wraps", "override",
                                "typing.override", "abc.abstractmethod", "abstractmethod", "functools.cache",
                                "functools.lru_cache", "lru_cache", "cache"})
# Calls that receive a function without calling it on the spot in a way that breaks when it is async.
_PASS_THROUGH = frozenset({"Depends", "Security", "to_thread", "run_sync", "run_in_threadpool", "asyncify",
                           "run_in_executor"})
_DUNDER_OK = frozenset({"__call__"})


@dataclass
class Stop:
    """A function that stays sync (and why): its handled sites are left as they are."""

    function: str
    path: str
    line: int
    reason: str


@dataclass
class Feedback:
    """What the driver learnt from rewriting a plan's files, for the next plan (see ``apply.native_rounds``).

    ``refused``: (path, line, col) of a planned site the driver left as it is (a target's ``Refusal``, an
    illegal ``await`` or ``to_thread`` position) -> the reason. ``target_async``: (path, line of ``def``, name)
    of sync functions a target's ``rewrite_module`` made async itself.
    """

    refused: dict[tuple[str, int, int], str] = field(default_factory=dict)
    target_async: set[tuple[str, int, str]] = field(default_factory=set)
    # sites the planner itself holds back (an object they use must stay sync): (path, line, col) -> reason
    held: dict[tuple[str, int, int], str] = field(default_factory=dict)


@dataclass
class FilePlan:
    path: str
    module: str
    # blocking sites converted by a target: (finding, target name)
    convert: list[tuple[Finding, str]] = field(default_factory=list)
    # functions that become ``async def``: (line of ``def``, name) -> qualname
    make_async: dict[tuple[int, str], str] = field(default_factory=dict)
    # call sites of project functions that become async: awaited
    await_calls: set[Pos] = field(default_factory=set)
    # offloaded sites: position of ``f`` in ``to_thread(f, ...)`` (or of the call inside a lambda) ->
    # ("function", None, "") to call and await it, ("api", finding, target) to convert the API natively
    unoffload: dict[Pos, tuple[str, Finding | None, str]] = field(default_factory=dict)
    review: list[tuple[Finding, str]] = field(default_factory=list)
    # blocking calls no target handles, in functions that become async: ``await asyncio.to_thread(...)``
    offload: list[Finding] = field(default_factory=list)
    # targets whose ``rewrite_module`` must run here even without a converted call: this module defines an
    # object (engine, client) whose uses elsewhere are converted
    module_targets: set[str] = field(default_factory=set)
    # sync functions a target's module rewrite makes async itself (session-factory generators): (line, name) ->
    # qualname; the driver reports them async to the targets (``TargetContext.is_async_after``) without
    # touching them
    target_async: dict[tuple[int, str], str] = field(default_factory=dict)
    # ``with f() as x:`` whose ``f()`` (its position) becomes an async context manager: ``async with``
    async_with: set[Pos] = field(default_factory=set)

    @property
    def empty(self) -> bool:
        return not (self.convert or self.make_async or self.await_calls or self.unoffload or self.review
                    or self.offload or self.module_targets or self.target_async or self.async_with)


@dataclass
class NativePlan:
    files: dict[str, FilePlan] = field(default_factory=dict)  # by path (as in the summaries)
    async_functions: set[str] = field(default_factory=set)  # sync functions that become async
    stops: list[Stop] = field(default_factory=list)
    targets_used: set[str] = field(default_factory=set)
    # sync functions a target's module rewrite makes async itself (dependency generators): not stops
    target_async: set[str] = field(default_factory=set)

    def file(self, path: str) -> FilePlan | None:
        return self.files.get(path)


# ---------------------------------------------------------------------------------------------
# References the summaries do not record
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Reference:
    name: str  # the last part of the dotted name
    line: int
    why: str


class _References(ast.NodeVisitor):
    """Every use of a name that is not a plain call in a function body (where ``await`` can go)."""

    def __init__(self) -> None:
        self.out: list[Reference] = []
        self.where = "at module level"  # "" inside a function body: calls there are recorded sites

    def _ref(self, node: ast.expr, why: str) -> None:
        if isinstance(node, ast.Name):
            self.out.append(Reference(node.id, node.lineno, why))
        elif isinstance(node, ast.Attribute):
            self.out.append(Reference(node.attr, node.lineno, why))
            self.visit(node.value)

    def _in(self, where: str, nodes: Iterable[ast.AST | None]) -> None:
        saved, self.where = self.where, where
        for n in nodes:
            if n is not None:
                self.visit(n)
        self.where = saved

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for dec in node.decorator_list:
            self._decorator(dec)
        args = node.args
        self._in("in a default argument", list(args.defaults) + list(args.kw_defaults))
        self._in("", node.body)

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def _decorator(self, dec: ast.expr) -> None:
        # `@app.get("/x")`: the decorator itself is not a reference to the decorated function
        target = dec.func if isinstance(dec, ast.Call) else dec
        self._in("in a decorator", [dec] if not isinstance(dec, ast.Call) else list(dec.args)
                 + [k.value for k in dec.keywords])
        del target

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for dec in node.decorator_list:
            self._decorator(dec)
        self._in("in a class body", node.bases + [k.value for k in node.keywords])
        saved, self.where = self.where, "in a class body"
        for stmt in node.body:
            self.visit(stmt)
        self.where = saved

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._in("inside a lambda", [node.body])

    def visit_GeneratorExp(self, node: ast.GeneratorExp) -> None:
        if self.where:
            self.generic_visit(node)
            return
        gens = node.generators
        self.visit(gens[0].iter)
        self._in("inside a generator expression", [node.elt, gens[0].target] + list(gens[0].ifs) + gens[1:])

    def visit_Call(self, node: ast.Call) -> None:
        head = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if self.where:  # not a recorded call site: calling the function here cannot be awaited
            self._ref(node.func, f"called {self.where}")
        elif isinstance(node.func, ast.Attribute):
            self.visit(node.func.value)
        args: list[ast.expr] = list(node.args)
        if head in _PASS_THROUGH and args:
            offloaded = 1 if head == "run_in_executor" else 0
            if len(args) > offloaded and isinstance(args[offloaded], (ast.Name, ast.Attribute)):
                if isinstance(args[offloaded], ast.Attribute):
                    self.visit(args[offloaded].value)  # type: ignore[union-attr]
                args = args[:offloaded] + args[offloaded + 1:]
            elif head in ("to_thread", "run_sync", "run_in_threadpool", "asyncify", "run_in_executor") \
                    and len(args) > offloaded and isinstance(args[offloaded], ast.Lambda):
                lam = args[offloaded]
                args = args[:offloaded] + args[offloaded + 1:]
                saved, self.where = self.where, self.where  # calls in an offloaded lambda are recorded sites
                self.visit(lam.body)  # type: ignore[union-attr]
                self.where = saved
        for arg in args:
            self._value(arg, head)
        for kw in node.keywords:
            self._value(kw.value, head)

    def _value(self, arg: ast.expr, head: str) -> None:
        if isinstance(arg, (ast.Name, ast.Attribute)):
            self._ref(arg, f"passed to `{head or 'a call'}(...)` as a value (callback, key or factory)")
        elif isinstance(arg, ast.Starred):
            self._value(arg.value, head)
        else:
            self.visit(arg)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self.out.append(Reference(node.id, node.lineno, f"used as a value {self.where}".rstrip()))

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.ctx, ast.Load):
            self.out.append(Reference(node.attr, node.lineno, f"used as a value {self.where}".rstrip()))
        self.visit(node.value)

    def visit_Import(self, node: ast.Import) -> None:
        return

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        return


def references(source: str) -> list[Reference]:
    """Uses of names outside awaitable call positions (a function used there must stay sync)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    visitor = _References()
    visitor.visit(tree)
    return visitor.out


# ---------------------------------------------------------------------------------------------
# The planner
# ---------------------------------------------------------------------------------------------

def is_route(fn: FunctionSummary) -> bool:
    """``@app.get(...)``, ``@router.post(...)``, ``@app.websocket(...)``, ``@app.api_route(...)``."""
    for dec in getattr(fn, "decorators", ()):
        parts = dec.split(".")
        if len(parts) >= 2 and parts[-1] in ROUTE_VERBS:
            return True
    return False


def _unknown_decorator(fn: FunctionSummary) -> str:
    for dec in getattr(fn, "decorators", ()):
        if dec in NEUTRAL_DECORATORS or dec.rpartition(".")[2] in ("setter", "getter", "deleter"):
            continue
        parts = dec.split(".")
        if len(parts) >= 2 and parts[-1] in ROUTE_VERBS:
            continue
        return dec
    return ""


def _pos(site: CallSite) -> Pos:
    return (site.line, site.col, site.end_line, site.end_col)


def _contains(outer: Pos, inner: Pos) -> bool:
    return (outer[0], outer[1]) <= (inner[0], inner[1]) and (inner[2], inner[3]) <= (outer[2], outer[3])


def _short(qualname: str) -> str:
    parts = qualname.replace(".<locals>", "").split(".")
    return ".".join(parts[-2:]) if len(parts) > 1 and parts[-2][:1].isupper() else parts[-1]


class Planner:
    def __init__(self, analysis: Analysis, targets: Sequence[Target], sources: Mapping[str, str] | None = None,
                 feedback: Feedback | None = None):
        self.analysis = analysis
        self.project = analysis.project
        self.targets = list(targets)
        self.sources = sources or {}
        self.feedback = feedback or Feedback()
        self.plan = NativePlan()
        self.handled: dict[str, list[tuple[Finding, str]]] = {}  # function -> its convertible direct findings
        # function -> handled findings its target refused last round: (finding, target, reason)
        self.refused: dict[str, list[tuple[Finding, str, str]]] = {}
        self.target_async: set[str] = set()  # functions a target's module rewrite makes async itself
        # session-factory generators a target converts itself when every use of them is async after the
        # rewrite: qualname -> (target name, the target's ``SessionFactory``)
        self.factories: dict[str, tuple[str, object]] = {}
        self.refs: dict[str, list[tuple[str, Reference]]] | None = None
        # every candidate, converted or not: (module, name or alias) -> qualname
        self.factory_names: dict[tuple[str, str], str] = {}
        self._direct: dict[str, list[Finding]] = {}
        # converted sites found unsafe after the fact (a definition they need stays sync): plan again
        self.extra_refused: dict[tuple[str, int, int], str] = {}
        self.pinned: dict[str, str] = {}
        self.callers: dict[str, list[tuple[str, CallSite]]] = {}
        self.offloaded: dict[str, list[tuple[str, CallSite]]] = {}  # callee -> offloaded call sites

    # ----- inputs --------------------------------------------------------------------------------
    def _target_for(self, finding: Finding) -> str:
        for t in self.targets:
            try:
                if t.handles(finding):
                    return t.name
            except Exception:  # noqa: BLE001 - a target bug must not stop the phase
                continue
        return ""

    def _direct_findings(self, fn: FunctionSummary) -> list[Finding]:
        """The blocking calls made by ``fn`` itself (chained calls merged), suppressions honoured."""
        cached = self._direct.get(fn.qualname)
        if cached is not None:
            return cached
        saved = len(self.analysis.suppressed)
        try:
            found = self.analysis._findings_in(fn)
        finally:
            del self.analysis.suppressed[saved:]
        out = self._direct[fn.qualname] = [f for f in found if f.kind == "direct"]
        return out

    def _collect(self) -> None:
        refused = self.feedback.refused
        made_async = self.feedback.target_async
        for q, fn in self.project.functions.items():
            path = self.project.function_module[q].path
            if not fn.is_async and (path, fn.line, fn.name) in made_async:
                self.target_async.add(q)
            handled = []
            for f in self._direct_findings(fn):
                name = self._target_for(f)
                if not name:
                    continue
                why = refused.get((f.path, f.line, f.col)) or self.feedback.held.get((f.path, f.line, f.col))
                if why is None:
                    handled.append((f, name))
                else:
                    self.refused.setdefault(q, []).append((f, name, why))
            if handled:
                self.handled[q] = handled
            for s in self.analysis.classify(fn):
                if s.site.offloaded:
                    if s.offloaded_target is not None:
                        self.offloaded.setdefault(s.offloaded_target, []).append((q, s.site))
                elif s.target is not None and not s.site.awaited:
                    self.callers.setdefault(s.target, []).append((q, s.site))

    def _references(self) -> dict[str, list[tuple[str, Reference]]]:
        if self.refs is None:
            self.refs = {}
            for path, source in self.sources.items():
                for r in references(source):
                    self.refs.setdefault(r.name, []).append((path, r))
        return self.refs

    # ----- session factories: generators a target converts itself -----------------------------------
    def _collect_factories(self) -> None:
        """Candidates (``SessionFactory``) of every module, checked where they are used: each call must be the
        only item of a ``with`` statement, no other reference may call it synchronously, and each import-time use
        must be one the target rewrites. A candidate that passes is treated as converted by its target (its
        callers become async); ``_factory_sync_use`` drops it when some use stays sync."""
        for module in self.project.modules.values():
            source = self.sources.get(module.path)
            if source is None:
                continue
            for t in self.targets:
                finder = getattr(t, "session_factories", None)
                if finder is None:
                    continue
                try:
                    found = finder(source)
                except Exception:  # noqa: BLE001 - a target bug must not stop the phase
                    continue
                for factory in found:
                    q = next((q for q, fn in module.functions.items()
                              if fn.line == factory.line and fn.name == factory.name), None)
                    if q is None or self.project.functions[q].is_async:
                        continue
                    if not (factory.decorated or factory.aliases):
                        continue  # a plain dependency generator: the target converts it on its own (Depends only)
                    for name in [factory.name, *(a for a, _ in factory.aliases)]:
                        self.factory_names[(module.name, name)] = q
                    why = factory.blocked or self._factory_static(q, module, factory)
                    if why:
                        self.pinned[q] = why
                        continue
                    self.factories[q] = (t.name, factory)
                    self.target_async.add(q)

    def _factory_static(self, q: str, module, factory) -> str:
        """Why the factory ``q`` cannot be converted whatever becomes async ("" when it can)."""
        names = {factory.name} | {a for a, _ in factory.aliases}
        alias_lines = {line for _, line in factory.aliases}
        label = f"`{factory.aliases[0][0] if factory.aliases else factory.name}`"
        for name in names:
            for path, r in self._references().get(name, ()):
                if path == module.path and r.line in alias_lines:
                    continue
                return (f"{label} ({module.path}) is {r.why} ({path}:{r.line}): it stays a sync generator, "
                        "so the sessions it opens stay sync")
        with_items: dict[str, set[tuple[int, int]]] = {}
        for caller, site in self.callers.get(q, ()):
            path = self.project.function_module[caller].path
            if path not in with_items:
                with_items[path] = _with_calls(self.sources.get(path, ""))
            if (site.line, site.col) not in with_items[path] or not (factory.decorated or factory.aliases):
                return (f"{label} ({module.path}) is called outside a single-item `with` statement ({path}:"
                        f"{site.line} in `{_short(caller)}`): it stays a sync generator, so the sessions it opens "
                        "stay sync")
        for caller, site in self.offloaded.get(q, ()):
            path = self.project.function_module[caller].path
            return (f"{label} ({module.path}) is run in a thread ({path}:{site.line}): it stays a sync generator, "
                    "so the sessions it opens stay sync")
        return ""

    def _factory_sync_use(self, q: str, becoming: set[str]) -> str:
        """Why the factory ``q`` must stay sync now: a caller, or a use of an object converted with it, stays sync
        (or a ``scoped_session`` over its sessionmaker is used somewhere); "" when none."""
        fns = self.project.functions
        _, factory = self.factories[q]
        module = self.project.function_module[q]
        label = f"`{factory.aliases[0][0] if factory.aliases else factory.name}`"  # type: ignore[attr-defined]
        for caller, site in self.callers.get(q, ()):
            if not (fns[caller].is_async or caller in becoming or caller in self.target_async):
                why = self.pinned.get(caller, "")
                path = self.project.function_module[caller].path
                return (f"{label} ({module.path}) is also used by code that stays sync ({path}:{site.line} in "
                        f"`{_short(caller)}`" + (f": {why}" if why else "") + "): its definition stays sync")
        names = [factory.name, *(a for a, _ in factory.aliases), *factory.objects]  # type: ignore[attr-defined]
        for obj in names:
            stranded = self._sync_use(module.name, obj, becoming, own_module_level=False, depends_ok=True)
            if stranded:
                return (f"`{obj}` ({module.path}) is also used by code that stays sync ({stranded}): "
                        f"{label} and the engine stay sync")
        for obj in factory.scoped:  # type: ignore[attr-defined]
            used = self._sync_use(module.name, obj, set(), own_module_level=False, depends_ok=False, any_use=True)
            if used:
                return (f"`{obj}` (a scoped_session over the sessionmaker, {module.path}) is used ({used}): "
                        "a thread-local session does not fit asyncio and its sessionmaker cannot become async under "
                        f"it: port `{obj}` to async_scoped_session(scopefunc=asyncio.current_task) by hand; "
                        f"{label} stays sync")
        return ""

    def _sync_factory_sessions(self, becoming: set[str]) -> None:
        """Converted calls on a session entered from a factory that stays sync (``with get_db() as db:`` in an
        async function): the session is a sync one, its calls cannot be awaited; refused (planned again)."""
        if not self.factory_names:
            return
        for fp in self.plan.files.values():
            for f, _ in fp.convert:
                fn = self.project.functions.get(f.function)
                if fn is None:
                    continue
                for site in fn.calls:
                    if (site.line, site.col) != (f.line, f.col):
                        continue
                    for name in _entered_globals(site.callee):
                        found = self._global(name, 0)
                        q = self.factory_names.get(found) if found else None
                        if q is not None and q not in self.target_async:
                            self.extra_refused.setdefault((f.path, f.line, f.col), (
                                f"the session comes from `{found[1]}` ({self.project.function_module[q].path}), "  # type: ignore[index]
                                f"which stays sync: {self.pinned.get(q, 'it stays a sync generator')}"))

    def _global(self, name: str, depth: int) -> tuple[str, str] | None:
        """(module, name) where the global ``name`` (``pkg.mod.x``) is defined, through imports."""
        mod, rest = self.project.split_module(name)
        if mod is None or len(rest) != 1:
            return None
        value = mod.globals.get(rest[0])
        if isinstance(value, tuple) and len(value) > 1 and value[0] == "g" and isinstance(value[1], str) \
                and depth < 12:
            return self._global(value[1], depth + 1) or (mod.name, rest[0])
        return (mod.name, rest[0])

    def _initial_pins(self) -> None:
        refs = self._references()
        for q, fn in self.project.functions.items():
            if fn.is_async or q in self.target_async:
                continue
            reason = ""
            if fn.name in ("__enter__", "__exit__"):
                reason = f"`{fn.name}` cannot be async: use `__aenter__`/`__aexit__` and `async with` by hand"
            elif fn.name.startswith("__") and fn.name.endswith("__") and fn.name not in _DUNDER_OK:
                reason = f"`{fn.name}` cannot be async"
            elif fn.kind == "property":
                reason = "a property cannot be awaited: make it a method by hand"
            elif fn.is_generator:
                reason = "a sync generator: it would become an async generator, and its consumers iterate it"
            elif (dec := _unknown_decorator(fn)):
                reason = f"decorated with `@{dec}`, which may call it synchronously"
            else:
                for path, r in refs.get(fn.name, ()):
                    reason = f"{r.why} ({path}:{r.line}): it must stay callable synchronously"
                    break
            if reason:
                self.pinned[q] = reason

    # ----- the fixed point -----------------------------------------------------------------------
    def _becoming_async(self) -> set[str]:
        """Sync functions that hold a converted site or call one becoming async, pins excluded."""
        fns = self.project.functions
        todo = [q for q in self.handled if not fns[q].is_async and q not in self.pinned and q not in self.target_async]
        out = set(todo)
        todo += [q for q in self.factories if q in self.target_async]  # their callers become async
        while todo:
            callee = todo.pop()
            for caller, _ in self.callers.get(callee, ()):
                if caller not in out and not fns[caller].is_async and caller not in self.pinned \
                        and caller not in self.target_async:
                    out.add(caller)
                    todo.append(caller)
        return out

    def _solve(self) -> set[str]:
        fns = self.project.functions
        while True:
            becoming = self._becoming_async()
            new: dict[str, str] = {}
            for callee in becoming:
                why = self._stays_on_loop(callee, becoming)
                if why:
                    new.setdefault(callee, why)
                for caller, site in self.callers.get(callee, ()):
                    if fns[caller].is_async or caller in becoming or caller in self.target_async:
                        continue
                    why = self.pinned.get(caller, "")
                    new.setdefault(callee, f"called by `{_short(caller)}` (line {site.line}), which stays sync"
                                           + (f": {why}" if why else ""))
            # to_thread(lambda: f(x) + g(y)) with f becoming async and g staying sync: f stays sync
            for callee in becoming:
                for caller, site in self.offloaded.get(callee, ()):
                    if not self._lambda_convertible(caller, site, becoming):
                        new.setdefault(callee, f"called inside `to_thread(lambda: ...)` in `{_short(caller)}` "
                                               f"(line {site.line}) together with calls that stay sync")
            for q in sorted(self.factories):
                if q in self.target_async:
                    why = self._factory_sync_use(q, becoming)
                    if why:
                        self.target_async.discard(q)
                        new.setdefault(q, why)
            if not new:
                return becoming
            self.pinned.update(new)

    def _stays_on_loop(self, q: str, becoming: set[str]) -> str:
        """Why ``q`` must stay sync: a blocking call in it could be neither converted nor offloaded ("" if none)."""
        for f, _name, why in self.refused.get(q, ()):
            return (f"`{f.call}` (line {f.line}) is left sync ({why}): it would block the event loop "
                    f"once `{_short(q)}` is async")
        refused = self.feedback.refused
        for f, why in self._offload_sites(q, becoming):
            if not why:
                why = refused.get((f.path, f.line, f.col), "")
            if why:
                call = _short(f.call) if f.kind == "interprocedural" else f.call
                return (f"`{call}` (line {f.line}) has no native target and cannot be offloaded there ({why}): "
                        f"it would block the event loop once `{_short(q)}` is async")
        return ""

    def _offload_sites(self, q: str, becoming: set[str]) -> list[tuple[Finding, str]]:
        """The blocking calls of ``q`` that no target converts, each with why it cannot be offloaded ("" if it can).

        Catalog APIs without a target, and calls to blocking project functions that stay sync. Only
        meaningful once ``q`` becomes async (the sites then get ``await asyncio.to_thread(...)``).
        """
        fn = self.project.functions[q]
        module = self.project.function_module[q]
        out: list[tuple[Finding, str]] = []
        for f in self._direct_findings(fn):
            if self._target_for(f) or f.code == "AM280":
                continue  # converted (or refused: pinned); AM280 is not a blocking call
            out.append((f, ""))
        for s in self.analysis.classify(fn):
            t = s.target
            if t is None or s.site.offloaded or s.site.awaited or t in becoming or t not in self.analysis.blocking \
                    or t in self.target_async and t in self.factories:
                continue
            code = self.analysis.blocking[t][0]
            f = Finding(module.path, s.site.line, s.site.col, s.site.end_line, s.site.end_col, code, t, q,
                        f"`{_short(t)}` stays sync and blocks", kind="interprocedural")
            why = ""
            callee = self.project.functions.get(t)
            if callee is not None and callee.kind == "property":
                why = f"reads the blocking property `{_short(t)}`"
            elif callee is not None and callee.is_generator:
                why = f"calls the sync generator `{_short(t)}`: its body runs where it is iterated, on the loop"
            out.append((f, why))
        return out

    def _lambda_group(self, caller: str, site: CallSite) -> list[CallSite]:
        """The offloaded sites run by the same ``to_thread(lambda: ...)`` as ``site`` ([site] for ``to_thread(f)``)."""
        fn = self.project.functions[caller]
        sites = fn.calls
        holder = None
        for s in sites:
            if not s.offloaded and s.text.rpartition(".")[2] in _PASS_THROUGH and _contains(_pos(s), _pos(site)):
                if holder is None or _contains(_pos(holder), _pos(s)):
                    holder = s
        if holder is None:
            return [site]
        inner = [s for s in sites if s.offloaded and _contains(_pos(holder), _pos(s))]
        if any(s is not site and s.callee is not None and s.nargs == -1 for s in inner):
            return [site]
        return inner

    def _site_convertible(self, caller: str, site: CallSite, becoming: set[str]) -> bool:
        for s in self.analysis.classify(self.project.functions[caller]):
            if s.site is site:
                if s.offloaded_target is not None:
                    return s.offloaded_target in becoming
                if s.offloaded_match is not None:
                    return self._offloaded_api_target(caller, site) != ""
                return True  # neither blocking nor a project function: it runs fine on the loop
        return True

    def _lambda_convertible(self, caller: str, site: CallSite, becoming: set[str]) -> bool:
        group = self._lambda_group(caller, site)
        if len(group) == 1:
            return True
        return all(self._site_convertible(caller, s, becoming) for s in group)

    def _offloaded_api_target(self, caller: str, site: CallSite) -> str:
        fn = self.project.functions[caller]
        for s in self.analysis.classify(fn):
            if s.site is site and s.offloaded_match is not None:
                return self._target_for(self._offloaded_finding(fn, site, s.offloaded_match))
        return ""

    def _offloaded_finding(self, fn: FunctionSummary, site: CallSite, match) -> Finding:
        module = self.project.function_module[fn.qualname]
        api = match.api
        return Finding(module.path, site.line, site.col, site.end_line, site.end_col, api.code, match.target,
                       fn.qualname, f"offloaded `{match.target}`", linter_code=api.linter, native=api.native)

    # ----- output ---------------------------------------------------------------------------------
    def _file(self, q: str) -> FilePlan:
        module = self.project.function_module[q]
        fp = self.plan.files.get(module.path)
        if fp is None:
            fp = self.plan.files[module.path] = FilePlan(module.path, module.name)
        return fp

    def _review(self, q: str, line: int, col: int, reason: str, code: str = "", call: str = "") -> None:
        module = self.project.function_module[q]
        blocked = self.analysis.blocking.get(q)
        code = code or (blocked[0] if blocked else "AM900")
        f = Finding(module.path, line, col, line, col, code, call or q, q, reason, kind="native")
        self._file(q).review.append((f, reason))

    def build(self) -> NativePlan:
        self._collect()
        self._collect_factories()
        self._initial_pins()
        becoming = self._solve()
        fns = self.project.functions
        self.plan.async_functions = becoming
        has_callers = {callee for callee, edges in self.callers.items() if edges} | set(self.offloaded)
        for q in sorted(becoming):
            fn = fns[q]
            self._file(q).make_async[(fn.line, fn.name)] = q
            if is_route(fn):
                continue
            if q not in has_callers and not fn.name.startswith("_") and "<locals>" not in q:
                self._review(q, fn.line, 0, f"public API: `{_short(q)}` becomes async; callers outside the "
                                            "scanned paths are not updated")
        self.plan.target_async = set(self.target_async)
        for q, handled in self.handled.items():
            fn = fns[q]
            if q in self.target_async:
                continue  # the target's module rewrite converts the function and its calls itself
            if fn.is_async or q in becoming:
                fp = self._file(q)
                for f, name in handled:
                    fp.convert.append((f, name))
                    self.plan.targets_used.add(name)
            else:
                why = self.pinned.get(q, "")
                for f, name in handled:
                    self._file(q).review.append((f, f"not converted: `{_short(q)}` stays sync: {why}"))
        for q, refused in self.refused.items():
            fn = fns[q]
            if q in self.target_async:
                continue
            for f, name, why in refused:
                if fn.is_async and (f.path, f.line, f.col) not in self.feedback.held:
                    self._file(q).convert.append((f, name))  # refused again by the driver, with its reason
                    self.plan.targets_used.add(name)
                elif fn.is_async:
                    self._file(q).review.append((f, f"not converted: {why}"))
                else:
                    self._file(q).review.append((f, f"{why} (`{_short(q)}` stays sync)"))
        for q, why in sorted(self.pinned.items()):
            fn = fns[q]
            if q in self.handled or any(c in becoming for c in self._callees(q)) or q in self.analysis.blocking \
                    and any(c in becoming or c in self.handled for c in self._callees(q)):
                module = self.project.function_module[q]
                self.plan.stops.append(Stop(q, module.path, fn.line, why))
        for callee in becoming:
            for caller, site in self.callers.get(callee, ()):
                if fns[caller].is_async or caller in becoming:
                    self._file(caller).await_calls.add(_pos(site))
            for caller, site in self.offloaded.get(callee, ()):
                self._file(caller).unoffload[_pos(site)] = ("function", None, "")
        for q, fn in fns.items():
            if not fn.is_async:
                continue
            for s in self.analysis.classify(fn):
                if s.site.offloaded and s.offloaded_match is not None:
                    name = self._offloaded_api_target(q, s.site)
                    if name and self._lambda_convertible(q, s.site, becoming):
                        finding = self._offloaded_finding(fn, s.site, s.offloaded_match)
                        self._file(q).unoffload[_pos(s.site)] = ("api", finding, name)
                        self.plan.targets_used.add(name)
        for q in sorted(self.factories):
            if q not in self.target_async:
                continue
            name, _ = self.factories[q]
            fp = self._file(q)
            fp.target_async[(fns[q].line, fns[q].name)] = q
            fp.module_targets.add(name)
            self.plan.targets_used.add(name)
            for caller, site in self.callers.get(q, ()):
                self._file(caller).async_with.add(_pos(site))
        self.plan.target_async = set(self.target_async)
        self._sync_factory_sessions(becoming)
        self._plan_offloads(becoming)
        self._definitions(becoming)
        for fp in self.plan.files.values():
            fp.review.sort(key=lambda item: (item[0].line, item[0].col))
            fp.offload.sort(key=lambda f: (f.line, f.col))
        self.plan.files = {p: fp for p, fp in sorted(self.plan.files.items()) if not fp.empty}
        return self.plan

    def _callees(self, q: str) -> list[str]:
        return [s.target for s in self.analysis.classify(self.project.functions[q])
                if s.target is not None and not s.site.offloaded]

    # ----- objects defined in one module, converted where they are used ------------------------------
    def _definitions(self, becoming: set[str]) -> None:
        """Modules defining an object (engine, client) whose uses elsewhere are converted: their target's
        module rewrite must run there too. When some use of the object stays sync, the definition must stay
        sync: the converted uses are refused instead (``self.extra_refused``, planned again)."""
        defs: dict[tuple[str, str], list[tuple[Finding, str]]] = {}
        for fp in self.plan.files.values():
            for f, name in fp.convert:
                fn = self.project.functions.get(f.function)
                if fn is None or not (fn.is_async or f.function in becoming):
                    continue
                roots: set[tuple[str, str]] = set()
                for site in fn.calls:
                    if (site.line, site.col) == (f.line, f.col):
                        self._roots(site.callee, roots, 0)
                for mod, obj in roots:
                    if self.project.modules[mod].path != fp.path:
                        defs.setdefault((mod, obj), []).append((f, name))
        for (mod, obj), sites in sorted(defs.items(), key=lambda kv: kv[0]):
            module = self.project.modules[mod]
            own = self.plan.files.get(module.path)
            names = {name for _, name in sites}
            if own is not None and names <= {name for _, name in own.convert}:
                continue  # the target rewrites that module anyway
            stranded = self._sync_use(mod, obj, becoming)
            if stranded:
                for f, name in sites:
                    self.extra_refused[(f.path, f.line, f.col)] = (
                        f"`{obj}` ({module.path}) is also used by code that stays sync ({stranded}): its "
                        f"definition stays sync, so its uses cannot be converted")
                continue
            fp = self.plan.files.get(module.path)
            if fp is None:
                fp = self.plan.files[module.path] = FilePlan(module.path, module.name)
            fp.module_targets |= names
            self.plan.targets_used |= names

    def _definition(self, sv: tuple, depth: int) -> tuple[str, str] | None:
        """(module, name) of the module-level object created by a call that ``("g", q)`` names."""
        if depth > 12 or len(sv) < 2 or not isinstance(sv[1], str):
            return None
        mod, rest = self.project.split_module(sv[1])
        if mod is None or len(rest) != 1:
            return None
        value = mod.globals.get(rest[0])
        if not isinstance(value, tuple) or not value:
            return None
        if value[0] == "g":
            return self._definition(value, depth + 1)
        return (mod.name, rest[0]) if value[0] == "call" else None

    def _roots(self, sv, out: set[tuple[str, str]], depth: int) -> None:
        """Module-level objects the call ``sv`` is made on: ``engine.connect()``, ``client.get()``, a session
        ``Session(engine)`` / ``SessionLocal()`` (entered or not), through method chains."""
        if not isinstance(sv, tuple) or len(sv) < 2 or sv[0] != "attr" or depth > 12:
            return
        receiver = sv[1]
        if isinstance(receiver, tuple) and receiver and receiver[0] == "enter" and len(receiver) > 1:
            receiver = receiver[1]
        if not isinstance(receiver, tuple) or len(receiver) < 2:
            return
        if receiver[0] == "g":
            found = self._definition(receiver, 0)
            if found is not None:
                out.add(found)
        elif receiver[0] == "call":
            inner = receiver[1]
            if isinstance(inner, tuple) and inner and inner[0] == "attr":
                self._roots(inner, out, depth + 1)  # a chain: s.exec(q).all()
            for sv2 in (inner, receiver[4] if len(receiver) > 4 else None):
                if isinstance(sv2, tuple) and sv2 and sv2[0] == "g":
                    found = self._definition(sv2, 0)
                    if found is not None:
                        out.add(found)

    def _sync_use(self, mod: str, obj: str, becoming: set[str], own_module_level: bool = True,
                  depends_ok: bool = False, any_use: bool = False) -> str:
        """Where ``mod.obj`` is used outside a function that is async after the rewrite ("" when nowhere).

        ``own_module_level=False``: import-time uses in ``mod`` itself are not counted (the target checked them);
        ``depends_ok``: ``Depends(obj)`` is not a use (FastAPI runs async dependencies); ``any_use``: every use
        counts, in async functions too."""
        target = f"{mod}.{obj}"
        for module in self.project.modules.values():
            names = {obj} if module.name == mod else set()
            modules = set()
            for g, value in module.globals.items():
                if isinstance(value, tuple) and len(value) > 1 and value[0] == "g":
                    if value[1] == target:
                        names.add(g)
                    elif value[1] == mod:
                        modules.add(g)
            if not names and not modules:
                continue
            source = self.sources.get(module.path)
            if source is None:
                return f"{module.path}: source not read"
            for line, fn_line, fn_name in _uses(source, names, modules, obj, depends_ok):
                if not fn_line and not own_module_level and module.name == mod:
                    continue
                if any_use or not self._async_after(module, fn_line, fn_name, becoming):
                    return f"{module.path}:{line}" + (f" in `{fn_name}`" if fn_name else "")
        return ""

    def _async_after(self, module, fn_line: int, fn_name: str, becoming: set[str]) -> bool:
        if not fn_line:
            return False
        for q, f in module.functions.items():
            if f.line == fn_line and f.name == fn_name:
                return f.is_async or q in becoming or q in self.target_async
        return False

    def _plan_offloads(self, becoming: set[str]) -> None:
        """Blocking calls no target converts, in functions that become async: ``await asyncio.to_thread(...)``."""
        for q in sorted(becoming):
            fp = self._file(q)
            for f, why in self._offload_sites(q, becoming):
                if not why:
                    fp.offload.append(f)
            for f in self._direct_findings(self.project.functions[q]):
                if f.code == "AM280":
                    fp.review.append((f, f"`{_short(q)}` becomes async: use `asyncio.get_running_loop()` here"))


def build_plan(analysis: Analysis, targets: Sequence[Target], sources: Mapping[str, str] | None = None,
               feedback: Feedback | None = None) -> NativePlan:
    """The native plan of a whole scan (``analysis.findings()`` must have run); ``feedback``: what the
    driver refused or did on its own when it rewrote the previous plan (see ``apply.native_rounds``)."""
    feedback = feedback or Feedback()
    for _ in range(8):
        planner = Planner(analysis, targets, sources, feedback)
        plan = planner.build()
        extra = {k: v for k, v in planner.extra_refused.items() if k not in feedback.held}
        if not extra:
            return plan
        feedback = Feedback(dict(feedback.refused), set(feedback.target_async), {**feedback.held, **extra})
    return plan


def _entered_globals(sv, depth: int = 0) -> list[str]:
    """Globals ``g`` of every ``with g(...) as x`` a call's receiver comes from
    (``("enter", ("call", ("g", g)...))``)."""
    if not isinstance(sv, tuple) or depth > 20:
        return []
    out = []
    if len(sv) > 1 and sv[0] == "enter" and isinstance(sv[1], tuple) and len(sv[1]) > 1 and sv[1][0] == "call":
        inner = sv[1][1]
        if isinstance(inner, tuple) and len(inner) > 1 and inner[0] == "g" and isinstance(inner[1], str):
            out.append(inner[1])
    for item in sv:
        out += _entered_globals(item, depth + 1)
    return out


def _with_calls(source: str) -> set[tuple[int, int]]:
    """(line, character column) of the calls that are the only item of a ``with`` statement."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()
    lines = source.splitlines()
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.With) and len(node.items) == 1 and isinstance(node.items[0].context_expr, ast.Call):
            call = node.items[0].context_expr
            text = lines[call.lineno - 1] if call.lineno - 1 < len(lines) else ""
            col = len(text.encode()[:call.col_offset].decode(errors="replace"))
            out.add((call.lineno, col))
    return out


def _uses(source: str, names: set[str], modules: set[str], attr: str,
          depends_ok: bool = False) -> list[tuple[int, int, str]]:
    """Loads of ``names`` (or of ``m.attr`` for ``m`` in ``modules``): (line, line of the enclosing ``def``, its
    name); (line, 0, "") at module level, in a class body, a decorator, a default or inside a lambda.
    ``depends_ok``: the argument of ``Depends(...)`` / ``Security(...)`` is not a use."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return [(0, 0, "")]
    out: list[tuple[int, int, str]] = []
    skip: set[int] = set()
    if depends_ok:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and node.args and (
                    getattr(node.func, "id", None) or getattr(node.func, "attr", None)) in ("Depends", "Security"):
                skip.add(id(node.args[0]))

    def hit(node: ast.AST, fn: tuple[int, str]) -> None:
        if id(node) in skip:
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in names:
            out.append((node.lineno, fn[0], fn[1]))
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) and node.attr == attr \
                and isinstance(node.value, ast.Name) and node.value.id in modules:
            out.append((node.lineno, fn[0], fn[1]))

    def walk(node: ast.AST, fn: tuple[int, str]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                outside = child.decorator_list + child.args.defaults + [d for d in child.args.kw_defaults if d]
                for expr in outside:
                    hit(expr, (0, ""))
                    walk(expr, (0, ""))
                for stmt in child.body:
                    hit(stmt, (child.lineno, child.name))
                    walk(stmt, (child.lineno, child.name))
                continue
            inner = (0, "") if isinstance(child, (ast.ClassDef, ast.Lambda)) else fn
            hit(child, fn)
            walk(child, inner)

    walk(tree, (0, ""))
    return out


__all__ = ["Feedback", "FilePlan", "NativePlan", "Planner", "Reference", "Stop", "build_plan", "is_route", "references"]

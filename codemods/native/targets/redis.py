"""redis -> ``redis.asyncio``: clients, pipelines, ``from_url``; module-level clients closed at shutdown.

    redis_client = redis.Redis.from_url(url)    ->  redis_client = aioredis.Redis.from_url(url)
    value = redis_client.get(key)               ->  value = await redis_client.get(key)
    with r.pipeline() as pipe: ...              ->  async with r.pipeline() as pipe: ...
    pipe.execute()                              ->  await pipe.execute()
    (lifespan) yield                            ->  yield; await redis_client.aclose()

``aioredis`` is ``from redis import asyncio as aioredis``. A module-level async client must not outlive
the event loop it was used on: the lifespan of the app closes it after ``yield`` (a module that uses the
client but has no lifespan gets a review note instead). Pub/sub and locks are not converted.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from ...analysis import Finding
from ..base import Refusal, TargetContext, awaited
from ..lifespan import is_lifespan

_CONSTRUCTORS = frozenset({"Redis", "StrictRedis"})
_ALIAS = "aioredis"


class RedisTarget:
    name = "redis"
    requirements: tuple[str, ...] = ("redis>=5.0.1",)

    def handles(self, finding: Finding) -> bool:
        return finding.code == "AM230" and finding.call.startswith(("redis.Redis.", "redis.Pipeline."))

    def rewrite_call(self, call: cst.Call, original: cst.Call, finding: Finding,
                     ctx: TargetContext) -> cst.BaseExpression | Refusal:
        receiver = original.func.value if isinstance(original.func, cst.Attribute) else None
        if isinstance(receiver, cst.Name):
            _state(ctx)["receivers"].add(receiver.value)
        fn = ctx.enclosing_function(original)
        if fn is not None:
            _state(ctx)["functions"].add(fn)
        return awaited(call)

    def rewrite_module(self, module: cst.Module, ctx: TargetContext) -> cst.Module:
        state = _state(ctx)
        rewriter = _ModuleRewriter(ctx, state)
        module = module.visit(rewriter)
        if rewriter.constructed:
            ctx.add_import("redis", "asyncio", _ALIAS)
            ctx.drop_import("redis")
            for name in _CONSTRUCTORS | {"from_url"}:
                ctx.drop_import("redis", name)
        clients = _module_level_clients(ctx.module, state["receivers"]) | rewriter.module_clients
        if clients:
            module, closed = _close_in_lifespan(module, sorted(clients))
            if not closed and rewriter.module_clients:
                ctx.note(1, "module-level async redis client(s) " + ", ".join(sorted(rewriter.module_clients))
                         + ": close them in the app's lifespan shutdown (`await client.aclose()`), or a client "
                         "used on one event loop breaks on the next")
        return module


def _state(ctx: TargetContext) -> dict:
    store = ctx.__dict__.setdefault("_redis", {"receivers": set(), "functions": set()})
    return store


def _redis_names(module: cst.Module) -> tuple[set[str], set[str]]:
    """Local names bound to the ``redis`` module, and to ``Redis``/``StrictRedis``/``from_url`` imported from it."""
    modules, objects = set(), set()
    for stmt in module.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.Import):
                for alias in small.names:
                    if m.matches(alias.name, m.Name("redis")):
                        modules.add(alias.asname.name.value if alias.asname else "redis")  # type: ignore[union-attr]
            elif isinstance(small, cst.ImportFrom) and m.matches(small.module, m.Name("redis")) \
                    and not isinstance(small.names, cst.ImportStar):
                for alias in small.names:
                    if isinstance(alias.name, cst.Name) and alias.name.value in _CONSTRUCTORS | {"from_url"}:
                        objects.add(alias.asname.name.value if alias.asname else alias.name.value)  # type: ignore[union-attr]
    return modules, objects


class _ModuleRewriter(cst.CSTTransformer):
    """Constructors -> ``aioredis.*`` (at module level or in functions that are async after);
    ``with x.pipeline() as p`` -> ``async with`` in functions that hold converted redis calls."""

    def __init__(self, ctx: TargetContext, state: dict) -> None:
        super().__init__()
        self.ctx = ctx
        self.state = state
        self.modules, self.objects = _redis_names(ctx.module)
        self.constructed = False
        self.module_clients: set[str] = set()
        self.depth = 0  # function nesting
        self.async_stack: list[bool] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.async_stack.append(node.asynchronous is not None)

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        self.async_stack.pop()
        return updated_node

    def _constructor(self, func: cst.BaseExpression) -> cst.BaseExpression | None:
        """The ``aioredis`` spelling of a redis constructor, or None."""
        if isinstance(func, cst.Name) and func.value in self.objects:
            return cst.Attribute(cst.Name(_ALIAS), cst.Name(func.value))
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value in self.modules \
                and func.attr.value in _CONSTRUCTORS | {"from_url"}:
            return cst.Attribute(cst.Name(_ALIAS), func.attr)
        if isinstance(func, cst.Attribute) and func.attr.value == "from_url":
            inner = self._constructor(func.value)
            if inner is not None:
                return func.with_changes(value=inner)
        return None

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if self.async_stack and not self.async_stack[-1]:
            return updated_node  # a sync function keeps its sync client
        new = self._constructor(updated_node.func)
        if new is None:
            return updated_node
        self.constructed = True
        return updated_node.with_changes(func=new)

    def leave_Assign(self, original_node: cst.Assign, updated_node: cst.Assign) -> cst.Assign:
        if not self.async_stack and isinstance(original_node.value, cst.Call) \
                and self._constructor(original_node.value.func) is not None:
            for t in original_node.targets:
                if isinstance(t.target, cst.Name):
                    self.module_clients.add(t.target.value)
        return updated_node

    def leave_With(self, original_node: cst.With, updated_node: cst.With) -> cst.With:
        if updated_node.asynchronous is not None or not self.async_stack or not self.async_stack[-1]:
            return updated_node
        pipelines = [m.matches(item.item, m.Call(func=m.Attribute(attr=m.Name("pipeline"))))
                     for item in updated_node.items]
        if not any(pipelines):
            return updated_node
        if not all(pipelines):
            self.ctx.note(1, "a `with` mixing a redis pipeline and other context managers: make it `async with` "
                             "by hand")
            return updated_node
        return updated_node.with_changes(asynchronous=cst.Asynchronous())


def _module_level_clients(module: cst.Module, receivers: set[str]) -> set[str]:
    """Receivers of converted calls that this module imports by name (``from app.cache import redis_client``)."""
    imported = set()
    for stmt in module.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                    for alias in small.names:
                        name = alias.asname.name.value if alias.asname else alias.name.value  # type: ignore[union-attr]
                        if name in receivers:
                            imported.add(name)
    return imported


def _close_in_lifespan(module: cst.Module, clients: list[str]) -> tuple[cst.Module, bool]:
    """Append ``await <client>.aclose()`` to the lifespan's shutdown part (after its ``yield``)."""
    closed = False

    class _Closer(cst.CSTTransformer):
        def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
            nonlocal closed
            if not is_lifespan(updated_node) or not isinstance(updated_node.body, cst.IndentedBlock):
                return updated_node
            body = list(updated_node.body.body)
            existing = cst.Module(body=body).code
            new = [cst.parse_statement(f"await {c}.aclose()\n") for c in clients if f"{c}.aclose()" not in existing]
            # the shutdown part: after the top-level yield statement
            if not any(m.matches(s, m.SimpleStatementLine(body=[m.Expr(value=m.Yield())])) for s in body):
                return updated_node
            closed = True
            return updated_node.with_changes(body=updated_node.body.with_changes(body=body + new))

    return module.visit(_Closer()), closed


TARGET = RedisTarget()

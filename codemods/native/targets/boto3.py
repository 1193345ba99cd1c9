"""Native target ``boto3``: module-level boto3 clients -> an aioboto3 session and its client.

``NativeConfig.boto3_client_scope`` picks the client's life span.

``"lifespan"`` (the default): one shared client per app lifespan::

    s3 = boto3.client("s3", region_name=r)      ->  session = aioboto3.Session()
                                                    _s3 = None  # the shared client: see get_s3()

                                                    def open_s3(): return session.client("s3", region_name=r)
                                                    def _load_botocore_data(client_context): ...
                                                    async def get_s3(): ...    # creates it on first use
                                                    async def close_s3(): ...  # closes it, resets _s3

    def download(key):                          ->  async def download(key):
        obj = s3.get_object(Bucket=b, Key=key)          s3 = await get_s3()
        return obj["Body"].read()                       obj = await s3.get_object(Bucket=b, Key=key)
                                                        return await obj["Body"].read()

    (lifespan) ...; yield; ...                  ->  ...; await get_s3(); yield; ...; await close_s3()

``s3 = await get_s3()`` goes right before the first top-level statement of the function that uses the
client, so ``except s3.exceptions.NoSuchKey`` keeps working. An importing module
(``from app.storage import s3``) imports ``get_s3`` (and ``close_s3`` when it has the lifespan). The
lifespan (an ``@asynccontextmanager`` function named ``*lifespan*`` with a top-level ``yield``) of a
module that uses the client creates it before ``yield`` (the first request pays nothing) and closes it
after: an aiobotocore client is bound to the loop it was created on (each ``TestClient`` runs a new
loop), so ``close_s3`` resets the holder and the next lifespan creates a new one. The defining module
with no lifespan gets a review note (shared aioboto3 client(s) ...: close them in the app's lifespan).

Creating an aiobotocore client reads botocore's data files (service model, endpoint rules,
partitions, config): measured with blockbuster on aiobotocore 2.25, 3,472 blocking calls and ~300 ms
on the loop for the first S3 client of a session, none for the next ones (the session's loader caches
them). ``get_s3`` therefore first runs ``_load_botocore_data`` in the default executor: it drives the
client creation coroutine in the worker thread *without* an event loop (a loop there would make
blockbuster flag the file reads in the thread too), which fills the session's caches, then stops or
finishes (a client built that way is closed). The real client is then created on the loop with no
blocking call (measured: 0 blocking calls, 5-20 ms of CPU; only the first use of the default
executor in the process does two calls, both allowed by blockbuster). The warm-up uses
``run_in_executor`` rather than ``asyncio.to_thread`` on purpose: asgi-migrate's phases treat
``to_thread(f, ...)`` as an offload wrapper to undo.

``"call"``: a client per function call::

    def download(key):                          ->  async def download(key):
        obj = s3.get_object(Bucket=b, Key=key)          async with open_s3() as s3:
        return obj["Body"].read()                           obj = await s3.get_object(Bucket=b, Key=key)
                                                            return await obj["Body"].read()

An importing module imports ``open_s3`` and wraps its own uses the same way. The wrapped range of a
function is the run of its top-level statements from the first to the last that uses the client or a
name bound from a client call (so a response's ``Body`` is read while the client is open); a ``try``
whose only client use is an ``except s3.exceptions...`` clause is wrapped too (every client of one
session shares its modeled exception classes). Each call builds a client: CPU on the loop every time.

Both scopes: ``generate_presigned_url``/``generate_presigned_post`` are coroutines in aiobotocore and
get ``await`` like every operation. Refused (the whole client, in that module, so nothing is half
converted): a client created inside a function, rebound, passed as a value, used at module level, in
a function that stays sync, in a nested function; a streaming response returned without reading its
body; paginators and waiters (``async for``), ``iter_lines``/``iter_chunks``, resources; in the
``call`` scope also a range holding a ``yield``. An unknown scope is refused.
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst
import libcst.matchers as m
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import RemoveImportsVisitor

from ...analysis import Finding
from ..base import Refusal, TargetContext, awaited
from ..lifespan import is_lifespan, top_yield

_SYNC_IN_AIOBOTOCORE = frozenset({"get_paginator", "get_waiter", "can_paginate"})
_STREAMING_OPS = frozenset({"get_object", "get_object_torrent", "select_object_content"})
_BODY_ASYNC = frozenset({"read", "readlines"})
_YIELD = m.Yield()
_SCOPES = (cst.FunctionDef, cst.Lambda, cst.ClassDef)
_SCOPE_NAMES = ("lifespan", "call")


class Boto3Target:
    """boto3 clients -> aioboto3 (see the module docstring)."""

    name = "boto3"
    requirements: tuple[str, ...] = ("aioboto3>=13",)

    def __init__(self) -> None:
        self._module: cst.Module | None = None
        self._verdicts: dict[str, str | None] = {}  # client name -> refusal reason (None: converts)
        self._accepted: set[str] = set()

    # ----- contract ------------------------------------------------------------------------------
    def handles(self, finding: Finding) -> bool:
        return finding.call.startswith(("boto3.Client.", "boto3.Resource.", "boto3.ResourceObject.",
                                        "botocore.response.StreamingBody."))

    def rewrite_call(self, call: cst.Call, original: cst.Call, finding: Finding,
                     ctx: TargetContext) -> cst.BaseExpression | Refusal:
        self._sync(ctx)
        if ctx.config.boto3_client_scope not in _SCOPE_NAMES:
            return Refusal(f"boto3_client_scope = {ctx.config.boto3_client_scope!r} is unknown "
                           f"(known: {', '.join(_SCOPE_NAMES)})")
        if finding.call.startswith("boto3.Resource"):
            return Refusal("aioboto3 resources are async context managers with async attributes: convert by hand")
        if finding.chained:
            return Refusal(f"chained calls on the result ({', '.join(finding.chained)}) are not rewritten")
        # Structure comes from `call` (for `to_thread(s3.put_object, ...)` the driver hands over the rebuilt
        # `s3.put_object(...)`); `original` is only for lookups in the original tree.
        func = call.func
        if not isinstance(func, cst.Attribute):
            return Refusal("not a method call")
        method = func.attr.value
        fn = ctx.enclosing_function(original)
        if fn is None or not ctx.is_async_after(fn):
            return Refusal("not in a function that becomes async")
        if finding.call.startswith("botocore.response.StreamingBody."):
            if method not in _BODY_ASYNC:
                return Refusal(f"StreamingBody.{method} is an async iterator in aiobotocore: `async for` by hand")
            root = _root_name(func.value)
            clients = self._clients_in(fn, ctx)
            if root is None or not clients or root not in _tainted(fn.body.body, clients):
                return Refusal("the body's response does not come from a client call in this function: "
                               "it would be read after the client closed")
            for name in clients:
                reason = self._verdict(name, ctx)
                if reason:
                    return Refusal(reason)
            return awaited(call)
        recv = func.value
        if not isinstance(recv, cst.Name):
            return Refusal("the client is not a module-level name")
        if method in _SYNC_IN_AIOBOTOCORE:
            return Refusal(f"`{method}` returns an async paginator/waiter in aiobotocore: `async for` by hand")
        reason = self._verdict(recv.value, ctx)
        if reason:
            return Refusal(reason)
        self._accepted.add(recv.value)
        return awaited(call)

    def rewrite_module(self, module: cst.Module, ctx: TargetContext) -> cst.Module:
        self._sync(ctx)
        names = sorted(n for n in self._accepted if self._verdict(n, ctx) is None)
        if not names:
            return module
        session = _free_name(module, "session", "aioboto3_session")
        lifespan = ctx.config.boto3_client_scope == "lifespan"
        has_lifespan = lifespan and any(is_lifespan(s) and top_yield(s) is not None for s in module.body
                                        if isinstance(s, cst.FunctionDef))
        rewriter = _Rewriter(names, session, ctx, lifespan, has_lifespan)
        module = module.visit(rewriter)
        if rewriter.lifespan_added:
            ctx.add_import("asyncio")
        if rewriter.defined and lifespan and not has_lifespan:
            ctx.note(1, "shared aioboto3 client(s) " + ", ".join(rewriter.defined) + ": no lifespan in this module; "
                     "await " + ", ".join(f"`{_closer(n)}()`" for n in rewriter.defined) + " in the app's lifespan "
                     "shutdown (after its `yield`) and, to create it before the first request, "
                     + ", ".join(f"`await {_getter(n)}()`" for n in rewriter.defined) + " before the `yield` "
                     "(done automatically in a lifespan of a module that uses the client); a client used on one "
                     "event loop breaks on the next")
        if len(m.findall(module, m.Name("boto3"))) == 1:  # only `import boto3` is left: it becomes aioboto3
            module = module.visit(_SwapImport())
        context = CodemodContext()
        RemoveImportsVisitor.remove_unused_import(context, "boto3")
        module = RemoveImportsVisitor(context).transform_module(module)
        return module

    # ----- verdicts ------------------------------------------------------------------------------
    def _sync(self, ctx: TargetContext) -> None:
        if self._module is not ctx.module:
            self._module = ctx.module
            self._verdicts = {}
            self._accepted = set()

    def _verdict(self, name: str, ctx: TargetContext) -> str | None:
        if name not in self._verdicts:
            self._verdicts[name] = self._judge(name, ctx)
        return self._verdicts[name]

    def _judge(self, name: str, ctx: TargetContext) -> str | None:
        """Why the client ``name`` cannot move to aioboto3 in this module (None: it can)."""
        binding = _binding(ctx.module, name)
        if binding is None:
            return f"`{name}` is not a module-level `boto3.client(...)` or an imported one"
        if binding == "local":
            return f"`{name}` is rebound at module level"
        functions: set[cst.FunctionDef] = set()
        for use in m.findall(ctx.module, m.Name(name)):
            up = ctx.parent(use)
            if (isinstance(up, cst.Attribute) and up.attr is use) or (isinstance(up, cst.Arg) and up.keyword is use) \
                    or isinstance(up, (cst.ImportAlias, cst.AsName)):
                continue
            if isinstance(up, cst.AssignTarget) and binding == "defined":
                continue
            fn = ctx.enclosing_function(use)
            if fn is None:
                return f"`{name}` is used at module level"
            if not ctx.is_async_after(fn):
                return f"`{name}` is used in `{fn.name.value}`, which stays sync"
            scope = ctx.parent(use)
            while scope is not None and scope is not fn:
                if isinstance(scope, (cst.Lambda, cst.ClassDef, cst.FunctionDef)):
                    return f"`{name}` is used in a nested function or lambda"
                scope = ctx.parent(scope)
            if not (isinstance(up, cst.Attribute) and up.value is use):
                return f"`{name}` is used as a value (passed on or rebound) in `{fn.name.value}`"
            if up.attr.value in _SYNC_IN_AIOBOTOCORE:
                return f"`{name}.{up.attr.value}` returns an async paginator/waiter: convert by hand"
            functions.add(fn)
        for fn in functions:
            reason = _function_ok(fn, name, ctx.config.boto3_client_scope == "call")
            if reason:
                return reason
        return None

    def _clients_in(self, fn: cst.FunctionDef, ctx: TargetContext) -> list[str]:
        found = {n.value for n in m.findall(fn.body, m.Attribute(value=m.Name()))
                 for n in [n.value] if isinstance(n, cst.Name)}  # type: ignore[attr-defined]
        return sorted(x for x in found if _binding(ctx.module, x) in ("defined", "imported")
                      and self._verdict(x, ctx) is None)


# ---------------------------------------------------------------------------------------------
# Analysis helpers (pure functions of the syntax)
# ---------------------------------------------------------------------------------------------

_BOTO3_CLIENT = m.Call(func=m.Attribute(m.Name("boto3"), m.Name("client")))


def _binding(module: cst.Module, name: str) -> str | None:
    """"defined" (``X = boto3.client(...)``), "imported" (``from m import X``), "local" or None."""
    kinds = []
    for stmt in module.body:
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)) and stmt.name.value == name:
            kinds.append("local")
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.Assign) and any(m.matches(t.target, m.Name(name)) for t in small.targets):
                ok = len(small.targets) == 1 and m.matches(small.value, _BOTO3_CLIENT) and len(stmt.body) == 1
                kinds.append("defined" if ok else "local")
            elif isinstance(small, (cst.AnnAssign, cst.AugAssign)) and m.matches(small.target, m.Name(name)):
                kinds.append("local")
            elif isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                for alias in small.names:
                    bound = alias.asname.name if alias.asname else alias.name
                    if m.matches(bound, m.Name(name)):
                        mod = cst.Module([]).code_for_node(small.module) if small.module else ""
                        kinds.append("imported" if mod.split(".")[0] not in ("boto3", "botocore") else "local")
    if len(kinds) != 1:
        return None if not kinds else "local"
    return kinds[0]


def _root_name(expr: cst.BaseExpression) -> str | None:
    while isinstance(expr, (cst.Attribute, cst.Subscript, cst.Call)):
        expr = expr.value if not isinstance(expr, cst.Call) else expr.func
    return expr.value if isinstance(expr, cst.Name) else None


def _names_in(node: cst.CSTNode) -> set[str]:
    return {n.value for n in m.findall(node, m.Name()) if isinstance(n, cst.Name)}


def _bound_by(stmt: cst.CSTNode) -> set[str]:
    out: set[str] = set()
    for t in m.findall(stmt, m.AssignTarget() | m.AnnAssign() | m.AugAssign() | m.AsName() | m.For()):
        target = getattr(t, "target", None) or getattr(t, "name", None)
        if target is not None:
            out |= _names_in(target)
    return out


def _tainted(body: Sequence[cst.CSTNode], clients: Sequence[str]) -> set[str]:
    """The clients and the names bound from values that use them (to a fixed point)."""
    tainted = set(clients)
    changed = True
    while changed:
        changed = False
        for stmt in body:
            for node in m.findall(stmt, m.Assign() | m.AnnAssign() | m.AugAssign() | m.For() | m.WithItem()
                                  | m.NamedExpr()):
                source = getattr(node, "value", None) or getattr(node, "iter", None) or getattr(node, "item", None)
                if source is None or not _names_in(source) & tainted:
                    continue
                targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else \
                    [node.asname.name] if isinstance(node, cst.WithItem) and node.asname else \
                    [getattr(node, "target", None)]
                new = set().union(*(_names_in(t) for t in targets if t is not None)) - tainted
                if new:
                    tainted |= new
                    changed = True
    return tainted


def _range(body: Sequence[cst.BaseStatement], clients: Sequence[str]) -> tuple[int, int] | None:
    tainted = _tainted(body, clients)
    idx = [i for i, s in enumerate(body) if _names_in(s) & tainted]
    return (idx[0], idx[-1]) if idx else None


def _function_ok(fn: cst.FunctionDef, name: str, per_call: bool = True) -> str | None:
    body = fn.body.body
    span = _range(body, [name])
    if span is None:
        return None
    stmts = body[span[0]:span[1] + 1]
    for s in stmts:
        if per_call and m.findall(s, _YIELD):  # a shared client outlives the function: a yield is harmless
            return f"using `{name}` in `{fn.name.value}` would hold the client across a `yield`"
        if m.findall(s, m.Global() | m.Nonlocal()):
            return f"`{fn.name.value}` declares global/nonlocal names"
    streams = set()
    for s in stmts:
        for a in m.findall(s, m.Assign(value=m.Await(expression=m.Call(func=m.Attribute(m.Name(name))))
                                       | m.Call(func=m.Attribute(m.Name(name))))):
            value = a.value.expression if isinstance(a.value, cst.Await) else a.value  # type: ignore[attr-defined]
            if value.func.attr.value in _STREAMING_OPS:  # type: ignore[attr-defined]
                streams |= {t.target.value for t in a.targets if isinstance(t.target, cst.Name)}  # type: ignore[attr-defined]
    for s in stmts:
        for ret in m.findall(s, m.Return()):
            value = ret.value  # type: ignore[attr-defined]
            if value is None:
                continue
            direct = m.findall(value, m.Call(func=m.Attribute(m.Name(name), m.Name())))
            if any(c.func.attr.value in _STREAMING_OPS for c in direct):  # type: ignore[attr-defined]
                return f"a streaming response of `{name}` is returned: its body would be read after the client closed"
            if _names_in(value) & streams and not m.findall(value, m.Call(func=m.Attribute(attr=m.Name("read")))):
                return f"a streaming response of `{name}` is returned: its body would be read after the client closed"
    return None


def _free_name(module: cst.Module, *candidates: str) -> str:
    bound = set()
    for stmt in module.body:
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            bound.add(stmt.name.value)
        bound |= _bound_by(stmt) if not isinstance(stmt, (cst.FunctionDef, cst.ClassDef)) else set()
        for imp in m.findall(stmt, m.ImportAlias()) if isinstance(stmt, cst.SimpleStatementLine) else ():
            target = imp.asname.name if imp.asname else imp.name  # type: ignore[attr-defined]
            bound.add(cst.Module([]).code_for_node(target).split(".")[0])
    for c in candidates:
        if c not in bound:
            return c
    i = 2
    while f"{candidates[-1]}_{i}" in bound:
        i += 1
    return f"{candidates[-1]}_{i}"


# ---------------------------------------------------------------------------------------------
# The module rewrite
# ---------------------------------------------------------------------------------------------

def _factory(name: str) -> str:
    return f"open_{name}"


def _getter(name: str) -> str:
    return f"get_{name}"


def _closer(name: str) -> str:
    return f"close_{name}"


def _holder(name: str) -> str:
    return f"_{name}"


_WARM_UP = "_load_botocore_data"
_WARM_UP_CODE = f'''
def {_WARM_UP}(client_context) -> None:
    """Run in a worker thread with no event loop: start building a client there, so botocore reads its
    data files (service model, endpoints, config) off the loop and caches them in the session. It stops
    where the client needs the loop (its HTTP session); the real client is then built on the loop."""
    opening = client_context.__aenter__()
    try:
        opening.send(None)
    except StopIteration as done:  # built without the loop after all: close it
        asyncio.run(done.value.close())
    except Exception:  # noqa: BLE001 - no running event loop: the data files are loaded by now
        pass
    finally:
        opening.close()
'''


def _shared_code(name: str) -> str:
    factory, holder = _factory(name), _holder(name)
    return f'''
async def {_getter(name)}():
    """The shared `{name}` client: created once per app lifespan, closed by `{_closer(name)}()`."""
    global {holder}
    if {holder} is None:
        await asyncio.get_running_loop().run_in_executor(None, {_WARM_UP}, {factory}())
        client = await {factory}().__aenter__()
        if {holder} is None:
            {holder} = client
        else:  # another task created it meanwhile
            await client.close()
    return {holder}


async def {_closer(name)}() -> None:
    global {holder}
    client, {holder} = {holder}, None
    if client is not None:
        await client.close()
'''


class _Rewriter(cst.CSTTransformer):
    def __init__(self, names: Sequence[str], session: str, ctx: TargetContext, lifespan: bool = False,
                 has_lifespan: bool = False) -> None:
        super().__init__()
        self.names = list(names)
        self.session = session
        self.ctx = ctx
        self.lifespan = lifespan  # boto3_client_scope == "lifespan": a shared client per app lifespan
        self.has_lifespan = has_lifespan  # this module has a lifespan that gets the create/close calls
        self.session_added = False
        self.warm_up_added = False
        self.lifespan_added = False  # shared-client helpers were generated (they need asyncio)
        self.defined: list[str] = []

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        body: list[cst.BaseStatement] = []
        for stmt in updated_node.body:
            replaced = self._definition(stmt)
            body.extend(replaced if replaced is not None else [stmt])
        return updated_node.with_changes(body=body)

    def _definition(self, stmt: cst.BaseStatement) -> list[cst.BaseStatement] | None:
        if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
            return None
        small = stmt.body[0]
        if not (isinstance(small, cst.Assign) and len(small.targets) == 1
                and isinstance(small.targets[0].target, cst.Name)
                and small.targets[0].target.value in self.names and m.matches(small.value, _BOTO3_CLIENT)):
            return None
        name = small.targets[0].target.value
        self.defined.append(name)
        self.ctx.add_import("aioboto3")
        call = small.value.with_changes(func=cst.Attribute(cst.Name(self.session), cst.Name("client")))  # type: ignore[union-attr]
        factory = cst.FunctionDef(
            name=cst.Name(_factory(name)),
            params=cst.Parameters(),
            body=cst.IndentedBlock([cst.SimpleStatementLine([cst.Return(call)])]),
            leading_lines=[cst.EmptyLine(), cst.EmptyLine()],
        )
        out: list[cst.BaseStatement] = []
        holder = cst.parse_statement(f"{_holder(name)} = None  # the shared client: see {_getter(name)}()\n")
        if not self.session_added:
            self.session_added = True
            out.append(cst.SimpleStatementLine(
                [cst.Assign([cst.AssignTarget(cst.Name(self.session))],
                            cst.Call(cst.Attribute(cst.Name("aioboto3"), cst.Name("Session"))))],
                leading_lines=stmt.leading_lines))
            if self.lifespan:
                out.append(holder)
            factory = factory.with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()])
        else:
            if self.lifespan:
                out.append(holder.with_changes(leading_lines=stmt.leading_lines or [cst.EmptyLine(), cst.EmptyLine()]))
                factory = factory.with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()])
            else:
                factory = factory.with_changes(leading_lines=stmt.leading_lines or [cst.EmptyLine(), cst.EmptyLine()])
        out.append(factory)
        if self.lifespan:
            self.lifespan_added = True
            code = _shared_code(name)
            if not self.warm_up_added:
                self.warm_up_added = True
                code = _WARM_UP_CODE + "\n" + code
            for i, helper in enumerate(cst.parse_module(code.lstrip("\n")).body):
                out.append(helper.with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()]))
        return out

    def leave_ImportFrom(self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom) -> cst.ImportFrom:
        if isinstance(updated_node.names, cst.ImportStar):
            return updated_node
        aliases: list[cst.ImportAlias] = []
        changed = False
        for alias in updated_node.names:
            bound = alias.asname.name if alias.asname else alias.name
            if isinstance(bound, cst.Name) and bound.value in self.names and isinstance(alias.name, cst.Name):
                changed = True
                makers = [_getter] if self.lifespan else [_factory]
                if self.lifespan and self.has_lifespan:
                    makers = [_closer, _getter]
                for make in makers:
                    new = alias.with_changes(name=cst.Name(make(alias.name.value)))
                    if alias.asname is not None:
                        new = new.with_changes(asname=alias.asname.with_changes(name=cst.Name(make(bound.value))))
                    aliases.append(new)
                continue
            aliases.append(alias)
        if not changed:
            return updated_node
        original = [cst.Module([]).code_for_node(a.name) for a in updated_node.names]
        if original == sorted(original):
            aliases.sort(key=lambda a: cst.Module([]).code_for_node(a.name))
        last = updated_node.names[-1].comma
        aliases = [a.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))) for a in aliases]
        if updated_node.lpar is None:
            aliases[-1] = aliases[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        else:  # parenthesised: keep the original layout of commas (one name a line) where it had one
            aliases = [a.with_changes(comma=updated_node.names[0].comma) for a in aliases]
            aliases[-1] = aliases[-1].with_changes(comma=last)
        return updated_node.with_changes(names=aliases)

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        if updated_node.asynchronous is None or not isinstance(updated_node.body, cst.IndentedBlock):
            return updated_node
        body = list(updated_node.body.body)
        used = [n for n in self.names if n in {x for s in body for x in _names_in(s)}]
        span = _range(body, used) if used else None
        if span is not None:
            body = self._wrap(body, used, span)
        if self.lifespan and self.has_lifespan and is_lifespan(updated_node):
            body = self._startup_shutdown(updated_node.with_changes(body=updated_node.body.with_changes(body=body)))
        return updated_node.with_changes(body=updated_node.body.with_changes(body=body))

    def _wrap(self, body: list[cst.BaseStatement], used: list[str], span: tuple[int, int]) -> list[cst.BaseStatement]:
        first, last = span
        inner = [s.visit(_AwaitOperations(used)) for s in body[first:last + 1]]
        if self.lifespan:  # `s3 = await get_s3()` just before the first statement that uses it
            leading = inner[0].leading_lines
            inner[0] = inner[0].with_changes(leading_lines=[])
            binds = [cst.parse_statement(f"{n} = await {_getter(n)}()\n") for n in used]
            binds[0] = binds[0].with_changes(leading_lines=leading)
            body[first:last + 1] = binds + inner
            return body
        leading = inner[0].leading_lines
        inner[0] = inner[0].with_changes(leading_lines=[])
        items = [cst.WithItem(cst.Call(cst.Name(_factory(n))), asname=cst.AsName(cst.Name(n)),
                              comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")) if i < len(used) - 1
                              else cst.MaybeSentinel.DEFAULT)
                 for i, n in enumerate(used)]
        block = cst.With(items, cst.IndentedBlock(inner), asynchronous=cst.Asynchronous(), leading_lines=leading)
        body[first:last + 1] = [block]
        return body

    def _startup_shutdown(self, fn: cst.FunctionDef) -> list[cst.BaseStatement]:
        """The lifespan creates every shared client before its ``yield`` and closes it after."""
        body = list(fn.body.body)  # type: ignore[union-attr]
        index = top_yield(fn)
        if index is None:
            return body
        before = cst.Module(body=body[:index]).code
        after = cst.Module(body=body[index + 1:]).code
        start = [cst.parse_statement(f"await {_getter(n)}()\n") for n in self.names if f"{_getter(n)}()" not in before]
        stop = [cst.parse_statement(f"await {_closer(n)}()\n") for n in self.names if f"{_closer(n)}()" not in after]
        return body[:index] + start + body[index:] + stop
class _AwaitOperations(cst.CSTTransformer):
    """Every client operation left without ``await`` in the wrapped range (``generate_presigned_url``,
    which the scan does not report as blocking, is a coroutine in aiobotocore) gets one."""

    def __init__(self, names: Sequence[str]) -> None:
        super().__init__()
        self.names = set(names)
        self.awaited: set[int] = set()

    def visit_Await(self, node: cst.Await) -> None:
        self.awaited.add(id(node.expression))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        func = updated_node.func
        if id(original_node) in self.awaited or not m.matches(func, m.Attribute(value=m.Name())):
            return updated_node
        if func.value.value in self.names and func.attr.value not in _SYNC_IN_AIOBOTOCORE:  # type: ignore[attr-defined]
            return awaited(updated_node)
        return updated_node

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.Attribute:
        if isinstance(updated_node.value, cst.Await) and not updated_node.value.lpar:
            return updated_node.with_changes(value=updated_node.value.with_changes(
                lpar=[cst.LeftParen()], rpar=[cst.RightParen()]))
        return updated_node

    def leave_Subscript(self, original_node: cst.Subscript, updated_node: cst.Subscript) -> cst.Subscript:
        if isinstance(updated_node.value, cst.Await) and not updated_node.value.lpar:
            return updated_node.with_changes(value=updated_node.value.with_changes(
                lpar=[cst.LeftParen()], rpar=[cst.RightParen()]))
        return updated_node


class _SwapImport(cst.CSTTransformer):
    """``import boto3`` -> ``import aioboto3`` once nothing else uses boto3."""

    def leave_ImportAlias(self, original_node: cst.ImportAlias, updated_node: cst.ImportAlias) -> cst.ImportAlias:
        if m.matches(updated_node, m.ImportAlias(name=m.Name("boto3"), asname=None)):
            return updated_node.with_changes(name=cst.Name("aioboto3"))
        return updated_node


__all__ = ["Boto3Target"]


TARGET = Boto3Target()

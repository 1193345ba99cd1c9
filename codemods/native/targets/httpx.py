"""requests -> ``httpx.AsyncClient``.

``NativeConfig.httpx_client_scope`` picks the client's life span.

``"lifespan"`` (the default): one shared client per module that makes requests::

    resp = requests.post(url, json=body, timeout=5)
        ->  resp = await get_http_client().post(url, json=body, timeout=5)

    (module)    _http_ssl_context = httpx.create_ssl_context()   # once, at import
                _http_client: "httpx.AsyncClient | None" = None
                def get_http_client() -> httpx.AsyncClient: ...   # created on first use in each event loop
                async def close_http_client() -> None: ...
    (lifespan of the same module) ...; get_http_client(); yield; ...; await close_http_client()

Creating an ``httpx.AsyncClient`` builds an SSL context (loads the CA certificates): measured ~40 ms of
CPU on the loop per client (httpx 0.28), and a client per request also defeats connection pooling. The
shared client is built with an SSL context created once at import (client creation then costs ~0.1 ms),
follows redirects and has no default timeout (like requests). An httpx client must not be used on
another event loop than the one it first ran on (each ``TestClient`` runs a new loop):
``get_http_client()`` makes a new client when the running loop changed, so it stays correct without
any lifespan; ``close_http_client()`` in the app's lifespan shutdown closes the pool's connections. A
lifespan (an ``@asynccontextmanager`` function named ``*lifespan*`` with a top-level ``yield``) in the
module gets both calls; otherwise the module gets a review note asking to await ``close_http_client()``
in the app's lifespan.

``"call"``: one client per statement (or the function's own session)::

    resp = requests.post(url, json=body, timeout=5)
        ->  async with httpx.AsyncClient(follow_redirects=True) as http_client:
                resp = await http_client.post(url, json=body, timeout=5)

Both scopes::

    with requests.Session() as s: s.get(u)
        ->  async with httpx.AsyncClient(follow_redirects=True) as s: await s.get(u)
    except (requests.ConnectionError, requests.Timeout)  ->  except (httpx.NetworkError, httpx.TimeoutException)

Kept: ``json=``, ``params=``, ``headers=``, ``timeout=``, ``files=``, ``auth=``; ``raise_for_status()``
and ``.json()`` stay sync methods of the response. requests follows redirects and has no default
timeout: the client gets ``follow_redirects=True`` and (shared client, or a call without ``timeout=``)
``timeout=None``. ``allow_redirects=`` becomes ``follow_redirects=``. Refused: ``stream=True``,
``verify=``/``cert=``/``proxies=``/``cookies=`` (client-level in httpx), ``data=`` that is not a dict
literal, sessions that are not local to the function; in the ``call`` scope also calls not in a plain
statement of the body. An unknown scope is refused.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from ...analysis import Finding
from ..base import Refusal, TargetContext, awaited
from ..lifespan import is_lifespan, top_yield

_SCOPE_NAMES = ("lifespan", "call")

_VERBS = frozenset({"get", "options", "head", "post", "put", "patch", "delete", "request"})
_KEPT = frozenset({"json", "params", "headers", "timeout", "files", "auth", "data", "allow_redirects", "content"})
_EXCEPTIONS = {"ConnectionError": "NetworkError", "Timeout": "TimeoutException", "ConnectTimeout": "ConnectTimeout",
               "ReadTimeout": "ReadTimeout", "HTTPError": "HTTPStatusError", "RequestException": "HTTPError",
               "TooManyRedirects": "TooManyRedirects"}


class HttpxTarget:
    name = "httpx"
    requirements: tuple[str, ...] = ("httpx>=0.27",)

    def handles(self, finding: Finding) -> bool:
        if finding.code != "AM100" or finding.chained:
            return False
        head, _, verb = finding.call.rpartition(".")
        return verb in _VERBS and head in ("requests", "requests.api", "requests.Session")

    def rewrite_call(self, call: cst.Call, original: cst.Call, finding: Finding,
                     ctx: TargetContext) -> cst.BaseExpression | Refusal:
        scope = getattr(ctx.config, "httpx_client_scope", "lifespan")
        if scope not in _SCOPE_NAMES:
            return Refusal(f"httpx_client_scope = {scope!r} is unknown (known: {', '.join(_SCOPE_NAMES)})")
        if not isinstance(call.func, cst.Attribute):
            return Refusal("requests function imported by name: rewrite it by hand")
        verb = call.func.attr.value
        args = []
        has_timeout = False
        for arg in call.args:
            if arg.star:
                return Refusal("*args/**kwargs in a requests call: the keywords cannot be checked")
            kw = arg.keyword.value if arg.keyword is not None else None
            if kw is None:
                args.append(arg)
                continue
            if kw not in _KEPT:
                return Refusal(f"`{kw}=` has no per-request equivalent in httpx")
            if kw == "data" and not isinstance(arg.value, cst.Dict):
                return Refusal("`data=` that is not a dict literal (httpx wants `content=` for raw bodies)")
            if kw == "allow_redirects":
                arg = arg.with_changes(keyword=cst.Name("follow_redirects"))
            has_timeout = has_timeout or kw == "timeout"
            args.append(arg)
        state = _state(ctx)
        if finding.call.startswith("requests.Session."):
            receiver = call.func.value
            if not isinstance(receiver, cst.Name) or receiver.value not in _local_sessions(original, ctx):
                return Refusal("the session is not created in this function (module-level or passed in): "
                               "an AsyncClient must not outlive its event loop; migrate it by hand")
            state["session_functions"].add(ctx.enclosing_function(original))
            return awaited(call.with_changes(args=args))
        if scope == "lifespan":
            names = state["shared"] or _shared_names(ctx.module)
            state["shared"] = names
            ctx.add_import("httpx")
            state["shared_functions"].add(ctx.enclosing_function(original))
            getter = cst.Call(cst.Name(names["get"]))
            return awaited(call.with_changes(func=cst.Attribute(getter, cst.Name(verb)), args=args))
        statement = _statement(original, ctx)
        if statement is None:
            return Refusal("not in a plain statement of a function body: no place for `async with`")
        name = state["names"].get(statement) or _fresh_name(ctx.module, "http_client")
        state["names"][statement] = name
        if not has_timeout:
            state["no_timeout"].add(statement)
        new = call.with_changes(func=cst.Attribute(cst.Name(name), cst.Name(verb)), args=args)
        result = awaited(new)
        state["awaits"].setdefault(statement, []).append(result)
        ctx.add_import("httpx")
        return result

    def rewrite_module(self, module: cst.Module, ctx: TargetContext) -> cst.Module:
        state = _state(ctx)
        module = module.visit(_Wrapper(state))
        module = module.visit(_Sessions(state, ctx))
        if state["shared"]:
            module = _add_shared_client(module, state["shared"], ctx)
        functions = {ctx.enclosing_function(s) for s in state["names"]} | state["session_functions"] \
            | state["shared_functions"]
        # callers in this module catch what the converted functions now raise: translate module-wide,
        # unless requests is still called somewhere (then only inside the converted functions)
        leftover = m.findall(module, m.Call(func=m.Attribute(value=m.Name("requests"))))
        module = module.visit(_Exceptions(functions, ctx, everywhere=not leftover))
        ctx.drop_import("requests")
        return module


def _state(ctx: TargetContext) -> dict:
    return ctx.__dict__.setdefault("_httpx", {"names": {}, "awaits": {}, "no_timeout": set(),
                                              "session_functions": set(), "shared": None,
                                              "shared_functions": set()})


def _shared_names(module: cst.Module) -> dict[str, str]:
    """Free names for the shared client's holder, loop, SSL context, getter and closer (same suffix)."""
    used = {n.value for n in m.findall(module, m.Name())}
    bases = {"client": "_http_client", "loop": "_http_client_loop", "ssl": "_http_ssl_context",
             "get": "get_http_client", "close": "close_http_client"}
    suffix, i = "", 1
    while any(b + suffix in used for b in bases.values()):
        i += 1
        suffix = str(i)
    return {k: b + suffix for k, b in bases.items()}


def _shared_code(n: dict[str, str]) -> str:
    return f'''
{n["ssl"]} = httpx.create_ssl_context()  # once, at import: loading CA certificates takes tens of ms
{n["client"]}: "httpx.AsyncClient | None" = None  # the shared client: see {n["get"]}()
{n["loop"]}: "asyncio.AbstractEventLoop | None" = None


def {n["get"]}() -> httpx.AsyncClient:
    """The shared HTTP client (one connection pool), created on first use in each event loop and closed by
    `{n["close"]}()`. Like requests, it follows redirects and has no default timeout."""
    global {n["client"]}, {n["loop"]}
    loop = asyncio.get_running_loop()
    if {n["client"]} is None or {n["loop"]} is not loop:  # a client must not be reused on another loop
        {n["client"]} = httpx.AsyncClient(follow_redirects=True, timeout=None, verify={n["ssl"]})
        {n["loop"]} = loop
    return {n["client"]}


async def {n["close"]}() -> None:
    global {n["client"]}, {n["loop"]}
    client, {n["client"]}, {n["loop"]} = {n["client"]}, None, None
    if client is not None:
        await client.aclose()
'''


def _is_import(stmt: cst.BaseStatement) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and all(
        isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body)


def _is_docstring(stmt: cst.BaseStatement) -> bool:
    return m.matches(stmt, m.SimpleStatementLine(body=[m.Expr(value=m.SimpleString() | m.ConcatenatedString())]))


def _add_shared_client(module: cst.Module, names: dict[str, str], ctx: TargetContext) -> cst.Module:
    """The shared client's definitions after the module's leading imports; the module's lifespan (if any)
    creates it before ``yield`` and closes it after."""
    ctx.add_import("asyncio")
    ctx.add_import("httpx")
    body = list(module.body)
    at = 0
    for i, stmt in enumerate(body):
        if _is_import(stmt) or (i == 0 and _is_docstring(stmt)):
            at = i + 1
        elif not isinstance(stmt, cst.If):  # `if TYPE_CHECKING:` blocks among the imports
            break
    helpers = list(cst.parse_module(_shared_code(names).lstrip("\n")).body)
    helpers[0] = helpers[0].with_changes(leading_lines=[cst.EmptyLine()] if at else [])
    for i in range(3, len(helpers)):
        helpers[i] = helpers[i].with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()])
    if at < len(body):
        nxt = body[at]
        blank = [cst.EmptyLine(), cst.EmptyLine()]
        kept = [ln for ln in nxt.leading_lines if ln.comment is not None]
        body[at] = nxt.with_changes(leading_lines=blank + kept if kept or len(nxt.leading_lines) < 2
                                    else nxt.leading_lines)
    body[at:at] = helpers
    lifespans = [i for i, s in enumerate(body) if isinstance(s, cst.FunctionDef) and is_lifespan(s)
                 and top_yield(s) is not None]
    for i in lifespans:
        fn = body[i]
        inner = list(fn.body.body)  # type: ignore[union-attr]
        y = top_yield(fn)  # type: ignore[arg-type]
        before = cst.Module(body=inner[:y]).code
        after = cst.Module(body=inner[y + 1:]).code
        start = [cst.parse_statement(f"{names['get']}()  # created before the first request\n")] \
            if f"{names['get']}()" not in before else []
        stop = [cst.parse_statement(f"await {names['close']}()\n")] if f"{names['close']}()" not in after else []
        inner = inner[:y] + start + inner[y:] + stop
        body[i] = fn.with_changes(body=fn.body.with_changes(body=inner))  # type: ignore[union-attr]
    if not lifespans:
        ctx.note(1, f"shared httpx client `{names['get']}()`: no lifespan in this module; await "
                    f"`{names['close']}()` in the app's lifespan shutdown (after its `yield`) to close its "
                    "connections (a new event loop gets a new client by itself)")
    return module.with_changes(body=body)


def _statement(node: cst.CSTNode, ctx: TargetContext) -> cst.SimpleStatementLine | None:
    current = ctx.parent(node)
    while current is not None and not isinstance(current, cst.SimpleStatementLine):
        if isinstance(current, (cst.Lambda, cst.BaseCompoundStatement, cst.ClassDef)):
            return None
        current = ctx.parent(current)
    if current is None or not isinstance(ctx.parent(current), cst.IndentedBlock):
        return None
    return current if ctx.enclosing_function(current) is not None else None


def _fresh_name(module: cst.Module, base: str) -> str:
    used = {n.value for n in m.findall(module, m.Name())}
    name, i = base, 1
    while name in used:
        i += 1
        name = f"{base}{i}"
    return name


def _local_sessions(node: cst.CSTNode, ctx: TargetContext) -> set[str]:
    fn = ctx.enclosing_function(node)
    if fn is None:
        return set()
    session = m.Call(func=m.Attribute(value=m.Name("requests"), attr=m.Name("Session") | m.Name("session")))
    names = set()
    for w in m.findall(fn, m.WithItem(item=session, asname=m.AsName(name=m.Name()))):
        names.add(w.asname.name.value)  # type: ignore[union-attr]
    for a in m.findall(fn, m.Assign(targets=[m.AssignTarget(target=m.Name())], value=session)):
        names.add(a.targets[0].target.value)  # type: ignore[attr-defined]
    return names


def _client(no_timeout: bool) -> cst.Call:
    args = [cst.Arg(cst.Name("True"), keyword=cst.Name("follow_redirects"),
                    equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))]
    if no_timeout:
        args.append(cst.Arg(cst.Name("None"), keyword=cst.Name("timeout"),
                            equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))))
        args[0] = args[0].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    return cst.Call(func=cst.Attribute(cst.Name("httpx"), cst.Name("AsyncClient")), args=args)


class _Wrapper(cst.CSTTransformer):
    """Each statement holding a converted request goes into ``async with httpx.AsyncClient() as name:``."""

    def __init__(self, state: dict) -> None:
        super().__init__()
        self.by_await = {id(a): stmt for stmt, awaits in state["awaits"].items() for a in awaits}
        self.state = state
        self.found: cst.SimpleStatementLine | None = None

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self.found = None

    def visit_Await(self, node: cst.Await) -> None:
        stmt = self.by_await.get(id(node))
        if stmt is not None:
            self.found = stmt

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine,
                                  updated_node: cst.SimpleStatementLine) -> cst.BaseStatement:
        stmt, self.found = self.found, None
        if stmt is None:
            return updated_node
        name = self.state["names"][stmt]
        inner = updated_node.with_changes(leading_lines=[])
        return cst.With(
            items=[cst.WithItem(_client(stmt in self.state["no_timeout"]), asname=cst.AsName(cst.Name(name)))],
            body=cst.IndentedBlock(body=[inner]), asynchronous=cst.Asynchronous(),
            leading_lines=updated_node.leading_lines)


class _Sessions(cst.CSTTransformer):
    """``with requests.Session() as s`` / ``s = requests.Session()`` in converted functions -> AsyncClient."""

    def __init__(self, state: dict, ctx: TargetContext) -> None:
        super().__init__()
        self.active = bool(state["session_functions"])
        self.depth = 0
        self.ctx = ctx

    def leave_With(self, original_node: cst.With, updated_node: cst.With) -> cst.With:
        if not self.active:
            return updated_node
        items = []
        changed = False
        for item in updated_node.items:
            if m.matches(item.item, m.Call(func=m.Attribute(value=m.Name("requests"), attr=m.Name("Session")))):
                item = item.with_changes(item=_client(True))
                changed = True
            items.append(item)
        if not changed:
            return updated_node
        self.ctx.add_import("httpx")
        return updated_node.with_changes(items=items, asynchronous=cst.Asynchronous())


class _Exceptions(cst.CSTTransformer):
    """``except requests.X`` -> ``except httpx.Y`` inside the converted functions."""

    def __init__(self, functions: set, ctx: TargetContext, everywhere: bool = False) -> None:
        super().__init__()
        self.names = {f.name.value for f in functions if f is not None}
        self.inside = 1 if everywhere else 0
        self.ctx = ctx

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node.name.value in self.names:
            self.inside += 1

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        if original_node.name.value in self.names:
            self.inside -= 1
        return updated_node

    def leave_ExceptHandler(self, original_node: cst.ExceptHandler,
                            updated_node: cst.ExceptHandler) -> cst.ExceptHandler:
        if not self.inside or updated_node.type is None:
            return updated_node
        return updated_node.with_changes(type=updated_node.type.visit(_ExceptionNames(self.ctx)))


class _ExceptionNames(cst.CSTTransformer):
    def __init__(self, ctx: TargetContext) -> None:
        super().__init__()
        self.ctx = ctx

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        if m.matches(updated_node.value, m.Name("requests")) or m.matches(
                updated_node.value, m.Attribute(value=m.Name("requests"), attr=m.Name("exceptions"))):
            new = _EXCEPTIONS.get(updated_node.attr.value)
            if new is not None:
                self.ctx.add_import("httpx")
                return cst.Attribute(cst.Name("httpx"), cst.Name(new))
        return updated_node


TARGET = HttpxTarget()

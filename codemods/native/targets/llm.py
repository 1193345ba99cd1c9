"""Sync LLM SDK clients -> their async twins: ``Anthropic`` -> ``AsyncAnthropic``, ``OpenAI`` -> ``AsyncOpenAI``::

    claude = anthropic.Anthropic()              ->  claude = anthropic.AsyncAnthropic()
    oai = OpenAI()                              ->  oai = AsyncOpenAI()
    msg = claude.messages.create(...)           ->  msg = await claude.messages.create(...)
    r = oai.chat.completions.create(...)        ->  r = await oai.chat.completions.create(...)
    with claude.messages.stream(...) as s:      ->  async with claude.messages.stream(...) as s:
        for text in s.text_stream: ...          ->      async for text in s.text_stream: ...
        final = s.get_final_message()           ->      final = await s.get_final_message()
    chunks = oai.chat.completions.create(..., stream=True)
                                                ->  chunks = await oai.chat.completions.create(..., stream=True)
    for chunk in chunks: ...                    ->  async for chunk in chunks: ...

The async clients take the same constructor arguments and expose the same resources with the same
parameters and result models; only the calls become coroutines and streams async iterators. A
client is converted as a whole: its constructor changes only when every use of the client object
in the module is a call in a function that is async after the rewrite (module-level clients), or
in its own function (local clients, ``with Anthropic() as c`` -> ``async with AsyncAnthropic() as c``).
Otherwise every call on it is refused with the reason, so no sync call is left on an async client.
Spellings are kept: ``anthropic.Anthropic(...)`` -> ``anthropic.AsyncAnthropic(...)``, a class
imported by name gets its async twin imported the same way.

Refused: clients passed in, imported from another module, stored on ``self`` or returned by a
call; uses of the client other than calls (passed as a value, attributes read); ``with_raw_response``
/ ``with_streaming_response`` (their results have async methods too); ``stream=`` that is not a
literal; a stream result used other than by a ``for`` loop; a ``.stream(...)`` helper outside a
``with`` or whose stream object is used other than by ``for`` / ``text_stream`` / ``get_final_*()``;
uses in lambdas (except ``to_thread(lambda: ...)`` the driver un-offloads), comprehensions or
nested functions; the legacy module-level API (``openai.ChatCompletion.create``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import libcst as cst
import libcst.matchers as m

from ...analysis import Finding
from ..base import Refusal, TargetContext, awaited

# sync client class -> its async twin, per SDK
_ASYNC_CLASSES = {
    "anthropic": {"Anthropic": "AsyncAnthropic", "Client": "AsyncAnthropic",
                  "AnthropicBedrock": "AsyncAnthropicBedrock", "AnthropicVertex": "AsyncAnthropicVertex"},
    "openai": {"OpenAI": "AsyncOpenAI", "Client": "AsyncOpenAI", "AzureOpenAI": "AsyncAzureOpenAI"},
}
_REQUIREMENTS = {"anthropic": "anthropic>=0.30", "openai": "openai>=1.0"}
_PREFIXES = {"anthropic.Anthropic.": "anthropic", "openai.OpenAI.": "openai"}
_SELF_RETURNING = frozenset({"with_options", "copy"})
_RAW = frozenset({"with_raw_response", "with_streaming_response"})
# methods of a stream manager's stream object that become coroutines / attributes iterated with `async for`
_STREAM_AWAITED = frozenset({"get_final_message", "get_final_text", "get_final_completion", "until_done", "close"})
_STREAM_ITERATED = frozenset({"text_stream"})
_OFFLOADERS = frozenset({"to_thread", "run_sync", "run_in_threadpool"})
_SCOPES = (cst.FunctionDef, cst.ClassDef)
_NESTED = (cst.Lambda, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)

Key = tuple[str, str]  # (qualified name of the owning function, "" at module level; client name)


class LlmTarget:
    """Anthropic / OpenAI sync clients -> ``AsyncAnthropic`` / ``AsyncOpenAI`` (see the module docstring)."""

    name = "llm"

    def __init__(self) -> None:
        self._sdks: set[str] = set()  # SDKs whose findings this target handled: the requirements

    @property
    def requirements(self) -> tuple[str, ...]:
        """The SDKs met while planning (``handles`` runs in the planning process), both when unknown."""
        return tuple(_REQUIREMENTS[s] for s in sorted(self._sdks or _REQUIREMENTS))

    def handles(self, finding: Finding) -> bool:
        if finding.code != "AM260" or finding.chained:
            return False
        sdk = next((s for p, s in _PREFIXES.items() if finding.call.startswith(p)), None)
        if sdk is None:
            return False
        self._sdks.add(sdk)
        return True

    def rewrite_call(self, call: cst.Call, original: cst.Call, finding: Finding,
                     ctx: TargetContext) -> cst.BaseExpression | Refusal:
        state = _state(ctx)
        root = _chain_root(call.func)
        if not isinstance(root, cst.Name):
            return Refusal("the client is not a plain name (an attribute, `self.client`, or returned by a call): "
                           "convert its constructor and calls by hand")
        fn = ctx.enclosing_function(original)
        key = state.key_of(root.value, fn)
        if key is None:
            return Refusal(f"`{root.value}` is not bound here")
        client = state.client(key)
        if client.refusal:
            return Refusal(client.refusal)
        method = _last_attr(call.func)
        client.converted += 1
        state.used.add(key)
        if method == "stream" and _keyword(call, "stream") is None:
            # the stream manager: `with c.messages.stream(...) as s` -> `async with`, done in rewrite_module
            return call
        return awaited(call)

    def rewrite_module(self, module: cst.Module, ctx: TargetContext) -> cst.Module:
        state = _state(ctx)
        converted = {k: c for k, c in state.clients.items() if k in state.used and not c.refusal}
        for key, client in converted.items():
            if client.converted != client.calls:
                ctx.note(client.line, f"`{key[1]}`: {client.calls - client.converted} of its calls were not "
                                      f"converted: check them by hand before using the async client")
        if not converted:
            return module
        rewriter = _ModuleRewriter(state, converted, ctx)
        module = module.visit(rewriter)
        for key, client in converted.items():
            if not key[0] and not key[1].startswith("_"):
                ctx.note(client.line, f"module-level client `{key[1]}` is now an async client: code importing it "
                                      f"from other modules must await its calls too")
        return module


# ---------------------------------------------------------------------------------------------
# Analysis of the original module: which clients convert
# ---------------------------------------------------------------------------------------------

@dataclass
class _Client:
    refusal: str = ""
    sdk: str = ""
    line: int = 1
    calls: int = 0  # call sites (rewrite_call is expected once per call)
    converted: int = 0
    # (function, name) bound to `stream=True` results (iterated with `async for`) and by
    # `with c.x.stream(...) as s` (stream managers)
    streams: set[tuple[str, str]] = field(default_factory=set)
    managers: set[tuple[str, str]] = field(default_factory=set)


class _State:
    def __init__(self, ctx: TargetContext) -> None:
        self.ctx = ctx
        self.clients: dict[Key, _Client] = {}
        self.used: set[Key] = set()
        self.names = _ImportedNames(ctx.module)
        self._names: dict[str, list[cst.Name]] = {}
        for node in m.findall(ctx.module, m.Name()):
            self._names.setdefault(node.value, []).append(node)  # type: ignore[union-attr]
        self._lines: dict[cst.CSTNode, int] | None = None

    # ----- scopes -----
    def qualname(self, fn: cst.CSTNode | None) -> str:
        parts = []
        node = fn
        while node is not None:
            if isinstance(node, _SCOPES):
                parts.append(node.name.value)
            node = self.ctx.parent(node)
        return ".".join(reversed(parts))

    def _binds(self, fn: cst.FunctionDef | None, name: str) -> bool:
        for node in self._names.get(name, ()):
            if _kind(node, self.ctx) in ("bind", "param") and _owner(node, self.ctx) is fn:
                return True
        return False

    def key_of(self, name: str, fn: cst.FunctionDef | None) -> Key | None:
        scope = fn
        while scope is not None:
            if self._binds(scope, name):
                return (self.qualname(scope), name)
            scope = _owner(scope, self.ctx)
        return ("", name)

    def _scope_of(self, key: Key) -> cst.FunctionDef | None:
        if not key[0]:
            return None
        for fn in m.findall(self.ctx.module, m.FunctionDef()):
            if self.qualname(fn) == key[0]:
                return fn  # type: ignore[return-value]
        return None

    def line(self, node: cst.CSTNode) -> int:
        if self._lines is None:
            from libcst.metadata import MetadataWrapper, PositionProvider
            positions = MetadataWrapper(self.ctx.module, unsafe_skip_copy=True).resolve(PositionProvider)
            self._lines = {n: r.start.line for n, r in positions.items()}
        return self._lines.get(node, 1)

    # ----- the verdict on one client -----
    def client(self, key: Key) -> _Client:
        if key not in self.clients:
            self.clients[key] = self._judge(key)
        return self.clients[key]

    def _judge(self, key: Key) -> _Client:
        qual, name = key
        client = _Client()
        scope = self._scope_of(key)
        if qual and scope is None:
            return _Client(refusal=f"`{name}`: its function could not be found")
        bindings, uses = [], []
        for node in self._names.get(name, ()):
            kind = _kind(node, self.ctx)
            if kind in ("attr", "kw"):
                continue
            if kind == "decl":
                return _Client(refusal=f"`{name}` is declared `global`/`nonlocal`: the client it holds is not visible")
            if kind in ("bind", "param"):
                owner = _owner(node, self.ctx)
                found: Key | None = (self.qualname(owner) if owner is not None else "", name)
            else:
                found = self.key_of(name, _owner(node, self.ctx))
            if found == key:
                (bindings if kind != "use" else uses).append((node, kind))
        if len(bindings) != 1:
            return _Client(refusal=f"`{name}` is bound {len(bindings)} times in its scope: the client it holds "
                                   "is not visible")
        node, kind = bindings[0]
        client.line = self.line(node)
        if kind == "param":
            return _Client(refusal=f"`{name}` is passed in: convert the client where it is constructed")
        client.sdk, reason = self._constructor(node)
        if reason:
            return _Client(refusal=reason)
        for use, _ in uses:
            reason = self._use(use, scope, client)
            if reason:
                return _Client(refusal=f"`{name}` ({client.sdk} client) is not converted: {reason}")
        return client

    def _constructor(self, bound: cst.Name) -> tuple[str, str]:
        """(the SDK of the constructor call bound to ``bound``, "") or ("", the reason it is not one)."""
        up = self.ctx.parent(bound)
        value: cst.CSTNode | None = None
        if isinstance(up, cst.AssignTarget):
            assign = self.ctx.parent(up)
            if isinstance(assign, cst.Assign) and len(assign.targets) == 1:
                value = assign.value
        elif isinstance(up, cst.AnnAssign):
            value = up.value
        elif isinstance(up, cst.AsName):
            item = self.ctx.parent(up)
            with_node = self.ctx.parent(item) if isinstance(item, cst.WithItem) else None
            if isinstance(with_node, cst.With) and with_node.asynchronous is None and len(with_node.items) == 1:
                value = item.item  # type: ignore[union-attr]
        elif isinstance(up, cst.ImportAlias):
            return "", (f"`{bound.value}` is imported: convert the client in the module that constructs it "
                        "(its calls here would need `await` then)")
        if isinstance(value, cst.Call):
            found = self.names.constructor(value.func)
            if found is not None:
                return found[0], ""
        return "", f"`{bound.value}` is not bound to an Anthropic/OpenAI client constructor in a plain assignment"

    def _use(self, use: cst.Name, scope: cst.FunctionDef | None, client: _Client) -> str:
        """Why this use of the client blocks its conversion ("" when it converts)."""
        ctx = self.ctx
        fn = ctx.enclosing_function(use)
        if fn is None:
            return f"used at module level (line {self.line(use)})"
        if not ctx.is_async_after(fn):
            return f"used in `{fn.name.value}`, which stays sync (line {self.line(use)})"
        if not _in_body(use, fn, ctx):
            return f"used outside the body of `{fn.name.value}` (line {self.line(use)})"
        if scope is not None and fn is not scope:
            return f"used in a nested function (line {self.line(use)})"
        node: cst.CSTNode = use
        while True:
            up = ctx.parent(node)
            if isinstance(up, cst.Attribute) and up.value is node:
                if up.attr.value in _RAW:
                    return f"`{up.attr.value}` results have async methods too (line {self.line(use)})"
                node = up
                continue
            if isinstance(up, cst.Call) and up.func is node and isinstance(node, cst.Attribute) \
                    and node.attr.value in _SELF_RETURNING:
                node = up
                continue
            break
        up = ctx.parent(node)
        if isinstance(node, cst.Attribute) and isinstance(up, cst.Arg) and _offloaded_arg(up, ctx):
            offloaded = ctx.parent(up)
            assert isinstance(offloaded, cst.Call)
            if node.attr.value == "stream" or _keyword(offloaded, "stream") is not None:
                return f"a stream offloaded with to_thread (line {self.line(use)})"
            client.calls += 1
            return ""  # `await to_thread(client.x.create, ...)`: the driver hands over `client.x.create(...)`
        if not (isinstance(node, cst.Attribute) and isinstance(up, cst.Call) and up.func is node):
            return f"used other than by calling a method (line {self.line(use)})"
        call = up
        nested = _nested_in(call, fn, ctx)
        if nested is not None and not _offloaded_lambda(nested, ctx):
            return f"a call inside a lambda or comprehension (line {self.line(use)})"
        client.calls += 1
        method = node.attr.value
        stream = _keyword(call, "stream")
        if method == "stream" and stream is None:
            return self._manager(call, fn, client)
        if stream is None or m.matches(stream, m.Name("False")):
            return ""
        if not m.matches(stream, m.Name("True")):
            return f"`stream=` is not a literal True/False (line {self.line(use)})"
        return self._stream_result(call, fn, client)

    def _stream_result(self, call: cst.Call, fn: cst.FunctionDef, client: _Client) -> str:
        ctx = self.ctx
        up = ctx.parent(call)
        if isinstance(up, cst.For) and up.iter is call:
            return ""
        target = _assigned_name(call, ctx)
        if target is None:
            return f"a `stream=True` result not iterated by a `for` (line {self.line(call)})"
        uses = [n for n in self._names.get(target, ()) if _owner(n, ctx) is fn]
        for n in uses:
            kind = _kind(n, ctx)
            if kind == "attr" or kind == "kw":
                continue
            if kind == "bind":
                if n is not _assign_target(call, ctx):
                    return f"`{target}` is bound more than once (line {self.line(n)})"
                continue
            loop = ctx.parent(n)
            if not (isinstance(loop, cst.For) and loop.iter is n):
                return f"the stream `{target}` is used other than by a `for` loop (line {self.line(n)})"
        client.streams.add((self.qualname(fn), target))
        return ""

    def _manager(self, call: cst.Call, fn: cst.FunctionDef, client: _Client) -> str:
        ctx = self.ctx
        item = ctx.parent(call)
        with_node = ctx.parent(item) if isinstance(item, cst.WithItem) else None
        if not isinstance(with_node, cst.With) or with_node.asynchronous is not None or len(with_node.items) != 1:
            return f"a `.stream(...)` helper that is not the only item of a `with` (line {self.line(call)})"
        assert isinstance(item, cst.WithItem)
        if item.asname is None:
            return ""
        if not isinstance(item.asname.name, cst.Name):
            return f"the stream is not bound to a plain name (line {self.line(call)})"
        name = item.asname.name.value
        for n in self._names.get(name, ()):
            if _owner(n, ctx) is not fn or _kind(n, ctx) in ("attr", "kw") or n is item.asname.name:
                continue
            if not _inside(n, with_node.body, ctx):
                return f"the stream `{name}` is used outside its `with` block (line {self.line(n)})"
            up = ctx.parent(n)
            if isinstance(up, cst.For) and up.iter is n:
                continue
            if isinstance(up, cst.Attribute) and up.value is n:
                above = ctx.parent(up)
                if up.attr.value in _STREAM_ITERATED and isinstance(above, cst.For) and above.iter is up:
                    continue
                if up.attr.value in _STREAM_AWAITED and isinstance(above, cst.Call) and above.func is up \
                        and _nested_in(above, fn, ctx) is None:
                    continue
            return f"the stream `{name}` is used other than by `for`, `.text_stream` or `.get_final_*()` " \
                   f"(line {self.line(n)})"
        client.managers.add((self.qualname(fn), name))
        return ""


def _state(ctx: TargetContext) -> _State:
    state = ctx.__dict__.get("_llm")
    if state is None:
        state = ctx.__dict__["_llm"] = _State(ctx)
    return state


class _ImportedNames:
    """How the module spells the SDKs: module aliases and client classes imported by name."""

    def __init__(self, module: cst.Module) -> None:
        self.modules: dict[str, str] = {}  # local name -> sdk
        self.classes: dict[str, tuple[str, str]] = {}  # local name -> (sdk, class)
        for imp in m.findall(module, m.Import()):
            for alias in imp.names:  # type: ignore[union-attr]
                if isinstance(alias.name, cst.Name) and alias.name.value in _ASYNC_CLASSES:
                    local = alias.asname.name.value if alias.asname else alias.name.value  # type: ignore[union-attr]
                    self.modules[local] = alias.name.value
        for imp in m.findall(module, m.ImportFrom()):
            assert isinstance(imp, cst.ImportFrom)
            if imp.relative or not isinstance(imp.module, cst.Name) or imp.module.value not in _ASYNC_CLASSES \
                    or isinstance(imp.names, cst.ImportStar):
                continue
            for alias in imp.names:
                if isinstance(alias.name, cst.Name) and alias.name.value in _ASYNC_CLASSES[imp.module.value]:
                    local = alias.asname.name.value if alias.asname else alias.name.value  # type: ignore[union-attr]
                    self.classes[local] = (imp.module.value, alias.name.value)

    def constructor(self, func: cst.BaseExpression) -> tuple[str, str, bool] | None:
        """(sdk, sync class, spelled through the module) of a client class reference, or None."""
        if isinstance(func, cst.Name) and func.value in self.classes:
            return (*self.classes[func.value], False)
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value in self.modules \
                and func.attr.value in _ASYNC_CLASSES[self.modules[func.value.value]]:
            return (self.modules[func.value.value], func.attr.value, True)
        return None


# ---------------------------------------------------------------------------------------------
# Tree helpers (original module)
# ---------------------------------------------------------------------------------------------

def _chain_root(expr: cst.BaseExpression) -> cst.BaseExpression:
    """``client`` of ``client.with_options(...).messages.create``."""
    while True:
        if isinstance(expr, cst.Attribute):
            expr = expr.value
        elif isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) \
                and expr.func.attr.value in _SELF_RETURNING:
            expr = expr.func.value
        else:
            return expr


def _last_attr(func: cst.BaseExpression) -> str:
    return func.attr.value if isinstance(func, cst.Attribute) else ""


def _keyword(call: cst.Call, name: str) -> cst.BaseExpression | None:
    return next((a.value for a in call.args if a.keyword is not None and a.keyword.value == name), None)


def _kind(node: cst.Name, ctx: TargetContext) -> str:
    """What a ``Name`` is: "attr" / "kw" (not a variable), "bind", "param", "decl" or "use"."""
    up = ctx.parent(node)
    if isinstance(up, cst.Attribute) and up.attr is node:
        return "attr"
    if isinstance(up, cst.Arg) and up.keyword is node:
        return "kw"
    if isinstance(up, cst.Param) and up.name is node:
        return "param"
    if isinstance(up, (cst.Global, cst.Nonlocal, cst.NameItem)):
        return "decl"
    if isinstance(up, (cst.ImportAlias, cst.FunctionDef, cst.ClassDef)):
        return "bind"
    child: cst.CSTNode = node
    while isinstance(up, (cst.Element, cst.StarredElement, cst.Tuple, cst.List)):
        child, up = up, ctx.parent(up)
    if isinstance(up, (cst.AssignTarget, cst.AsName)) and getattr(up, "target", getattr(up, "name", None)) is child:
        return "bind"
    if isinstance(up, (cst.AnnAssign, cst.AugAssign, cst.NamedExpr)) and up.target is child:
        return "bind"
    if isinstance(up, (cst.For, cst.CompFor)) and up.target is child:
        return "bind"
    if isinstance(up, cst.Del):
        return "bind"
    return "use"


def _owner(node: cst.CSTNode, ctx: TargetContext) -> cst.FunctionDef | None:
    """The function whose scope holds ``node`` (a def's own name belongs to the outer scope)."""
    up = ctx.parent(node)
    if isinstance(node, cst.Name) and isinstance(up, (cst.FunctionDef, cst.ClassDef)) and up.name is node:
        node = up
    elif isinstance(node, cst.FunctionDef):
        pass
    return ctx.enclosing_function(node)


def _in_body(node: cst.CSTNode, fn: cst.FunctionDef, ctx: TargetContext) -> bool:
    child, up = node, ctx.parent(node)
    while up is not None and up is not fn:
        child, up = up, ctx.parent(up)
    return up is fn and child is fn.body


def _inside(node: cst.CSTNode, block: cst.CSTNode, ctx: TargetContext) -> bool:
    up = ctx.parent(node)
    while up is not None:
        if up is block:
            return True
        up = ctx.parent(up)
    return False


def _nested_in(node: cst.CSTNode, fn: cst.FunctionDef, ctx: TargetContext) -> cst.CSTNode | None:
    """The innermost lambda / comprehension between ``node`` and ``fn``."""
    up = ctx.parent(node)
    while up is not None and up is not fn:
        if isinstance(up, _NESTED):
            return up
        up = ctx.parent(up)
    return None


def _offloader(call: cst.CSTNode | None) -> bool:
    if not isinstance(call, cst.Call):
        return False
    head = call.func.attr.value if isinstance(call.func, cst.Attribute) else getattr(call.func, "value", "")
    return head in _OFFLOADERS


def _offloaded_arg(arg: cst.Arg, ctx: TargetContext) -> bool:
    """``arg`` is the function argument of an awaited ``to_thread(...)`` call."""
    call = ctx.parent(arg)
    return _offloader(call) and call.args[0] is arg and arg.keyword is None \
        and isinstance(ctx.parent(call), cst.Await)  # type: ignore[union-attr]


def _offloaded_lambda(node: cst.CSTNode, ctx: TargetContext) -> bool:
    if not isinstance(node, cst.Lambda) or node.params.params or node.params.star_arg != cst.MaybeSentinel.DEFAULT \
            or node.params.kwonly_params or node.params.star_kwarg is not None or node.params.posonly_params:
        return False
    arg = ctx.parent(node)
    return isinstance(arg, cst.Arg) and _offloaded_arg(arg, ctx)


def _assign_target(call: cst.Call, ctx: TargetContext) -> cst.Name | None:
    up = ctx.parent(call)
    if isinstance(up, cst.Assign) and len(up.targets) == 1 and isinstance(up.targets[0].target, cst.Name):
        return up.targets[0].target
    if isinstance(up, cst.AnnAssign) and isinstance(up.target, cst.Name):
        return up.target
    return None


def _assigned_name(call: cst.Call, ctx: TargetContext) -> str | None:
    target = _assign_target(call, ctx)
    return target.value if target is not None else None


# ---------------------------------------------------------------------------------------------
# The module rewrite: constructors, `async with`, `async for`, awaited stream methods
# ---------------------------------------------------------------------------------------------

class _ModuleRewriter(cst.CSTTransformer):
    def __init__(self, state: _State, converted: dict[Key, _Client], ctx: TargetContext) -> None:
        super().__init__()
        self.state = state
        self.converted = converted
        self.ctx = ctx
        self.scopes: list[str] = []  # names of the enclosing defs and classes
        self.functions: list[str] = []  # qualnames of the enclosing functions
        self.awaited: set[int] = set()

    def _qual(self) -> str:
        return ".".join(self.scopes)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.scopes.append(node.name.value)

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        self.scopes.pop()
        return updated_node

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.scopes.append(node.name.value)
        self.functions.append(self._qual())

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        self.scopes.pop()
        self.functions.pop()
        return updated_node

    def _clients_here(self) -> Iterator[tuple[Key, _Client]]:
        here = self.functions[-1] if self.functions else ""
        for key, client in self.converted.items():
            if key[0] in ("", here):
                yield key, client

    def _client(self, name: str) -> _Client | None:
        here = self.functions[-1] if self.functions else ""
        return self.converted.get((here, name)) or self.converted.get(("", name))

    def _streams(self) -> tuple[set[str], set[str]]:
        streams: set[str] = set()
        managers: set[str] = set()
        if not self.functions:
            return streams, managers
        here = self.functions[-1]
        for _, client in self._clients_here():
            streams |= {n for q, n in client.streams if q == here}
            managers |= {n for q, n in client.managers if q == here}
        return streams, managers

    # constructors ------------------------------------------------------------------------------
    def _async_ctor(self, value: cst.BaseExpression) -> cst.BaseExpression:
        if not isinstance(value, cst.Call):
            return value
        found = self.state.names.constructor(value.func)
        if found is None:
            return value
        sdk, cls, qualified = found
        new = _ASYNC_CLASSES[sdk][cls]
        if qualified:
            return value.with_changes(func=value.func.with_changes(attr=cst.Name(new)))  # type: ignore[union-attr]
        self.ctx.add_import(sdk, new)
        self.ctx.drop_import(sdk, cls)
        return value.with_changes(func=cst.Name(new))

    def _bound_here(self, name: str) -> bool:
        here = self.functions[-1] if self.functions else ""
        return (here, name) in self.converted

    def leave_Assign(self, original_node: cst.Assign, updated_node: cst.Assign) -> cst.Assign:
        if len(updated_node.targets) == 1 and isinstance(updated_node.targets[0].target, cst.Name) \
                and self._bound_here(updated_node.targets[0].target.value):
            return updated_node.with_changes(value=self._async_ctor(updated_node.value))
        return updated_node

    def leave_AnnAssign(self, original_node: cst.AnnAssign, updated_node: cst.AnnAssign) -> cst.AnnAssign:
        if isinstance(updated_node.target, cst.Name) and self._bound_here(updated_node.target.value) \
                and updated_node.value is not None:
            annotation = updated_node.annotation.annotation
            found = self.state.names.constructor(annotation)
            new_annotation = self._async_ctor(cst.Call(func=annotation)).func if found else annotation  # type: ignore[attr-defined]
            return updated_node.with_changes(value=self._async_ctor(updated_node.value),
                                             annotation=updated_node.annotation.with_changes(annotation=new_annotation))
        return updated_node

    def leave_With(self, original_node: cst.With, updated_node: cst.With) -> cst.With:
        if updated_node.asynchronous is not None or not self.functions or len(updated_node.items) != 1:
            return updated_node
        item = updated_node.items[0]
        name = item.asname.name.value if item.asname and isinstance(item.asname.name, cst.Name) else None
        if name is not None and self._bound_here(name) and isinstance(item.item, cst.Call) \
                and self.state.names.constructor(item.item.func) is not None:
            item = item.with_changes(item=self._async_ctor(item.item))
            return updated_node.with_changes(items=[item], asynchronous=cst.Asynchronous())
        call = item.item
        if isinstance(call, cst.Call) and _last_attr(call.func) == "stream" and _keyword(call, "stream") is None:
            root = _chain_root(call.func)
            if isinstance(root, cst.Name) and self._client(root.value) is not None:
                return updated_node.with_changes(asynchronous=cst.Asynchronous())
        return updated_node

    # streams -------------------------------------------------------------------------------------
    def leave_For(self, original_node: cst.For, updated_node: cst.For) -> cst.For:
        if updated_node.asynchronous is not None or not self.functions:
            return updated_node
        streams, managers = self._streams()
        it = updated_node.iter
        if isinstance(it, cst.Name) and it.value in streams | managers:
            return updated_node.with_changes(asynchronous=cst.Asynchronous())
        if isinstance(it, cst.Attribute) and isinstance(it.value, cst.Name) and it.value.value in managers \
                and it.attr.value in _STREAM_ITERATED:
            return updated_node.with_changes(asynchronous=cst.Asynchronous())
        if isinstance(it, cst.Await) and isinstance(it.expression, cst.Call) \
                and m.matches(_keyword(it.expression, "stream"), m.Name("True")):
            root = _chain_root(it.expression.func)
            if isinstance(root, cst.Name) and self._client(root.value) is not None:
                return updated_node.with_changes(asynchronous=cst.Asynchronous())
        return updated_node

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.Attribute:
        return updated_node.with_changes(value=_parenthesized(updated_node.value))

    def leave_Subscript(self, original_node: cst.Subscript, updated_node: cst.Subscript) -> cst.Subscript:
        return updated_node.with_changes(value=_parenthesized(updated_node.value))

    def visit_Await(self, node: cst.Await) -> None:
        self.awaited.add(id(node.expression))

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if id(original_node) in self.awaited or not self.functions:
            return updated_node
        func = updated_node.func
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.attr.value in _STREAM_AWAITED:
            _, managers = self._streams()
            if func.value.value in managers:
                return awaited(updated_node)
        return updated_node


def _parenthesized(expr: cst.BaseExpression) -> cst.BaseExpression:
    """``(await x).attr``: an await added under a trailer needs parentheses."""
    if isinstance(expr, cst.Await) and not expr.lpar:
        return expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return expr


TARGET = LlmTarget()

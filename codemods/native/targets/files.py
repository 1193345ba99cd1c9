"""Native target ``files``: ``open``/``json``/``os``/``os.path``/``pathlib``/``shutil`` -> aiofiles or anyio.

Backend ``aiofiles`` (the default, ``file-backend = "aiofiles"``)::

    with open(p, "w") as f:                 ->  async with aiofiles.open(p, "w") as f:
        f.write(x)                          ->      await f.write(x)
        json.dump(obj, f, indent=2)         ->      await f.write(json.dumps(obj, indent=2))
    with open(p) as f:                      ->  async with aiofiles.open(p) as f:
        data = json.load(f)                 ->      data = json.loads(await f.read())
        for line in f: ...                  ->      async for line in f: ...
    os.path.exists(p)                       ->  await aiofiles.os.path.exists(p)
    os.makedirs(d, exist_ok=True)           ->  await aiofiles.os.makedirs(d, exist_ok=True)
    p.exists() / p.is_dir()                 ->  await aiofiles.os.path.exists(p) / isdir(p)
    p.mkdir(parents=True, exist_ok=True)    ->  await aiofiles.os.makedirs(p, exist_ok=True)
    p.read_text() / p.write_bytes(b)        ->  await anyio.Path(p).read_text() / ...write_bytes(b)
    shutil.rmtree(d)                        ->  await asyncio.to_thread(shutil.rmtree, d)

aiofiles has no pathlib API, so the pathlib methods without an ``aiofiles.os`` counterpart
(``read_text``, ``read_bytes``, ``write_text``, ``write_bytes``, ``touch``, ...) use ``anyio.Path``
(anyio ships with FastAPI/Starlette) even under this backend. Functions with no async equivalent
at all (``shutil.*``, ``glob.glob``, the ``os`` functions aiofiles lacks) fall back to
``asyncio.to_thread``: exact, and still off the event loop.

Backend ``anyio``: ``async with await anyio.open_file(...) as f``, ``anyio.Path`` for ``os.path``,
``os`` and ``pathlib`` calls it covers, ``anyio.to_thread.run_sync`` for the fallback.

Statement-level rewrites (``with`` -> ``async with``, ``for`` -> ``async for``) are done by
``rewrite_module`` on every sync ``with`` whose items ``rewrite_call`` turned into
``aiofiles.open(...)`` / ``await anyio.open_file(...)``. A ``with open(...)`` is converted only when
every use of its file object inside the block is one the codemod rewrites (methods, ``json.load`` /
``json.dump``, ``for``, list/set/dict comprehensions); otherwise its open and every call on the
file object are refused together, so the block is never half converted. ``open()`` outside a
``with`` is refused: its file object's lifetime is not visible.
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst
import libcst.matchers as m
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import RemoveImportsVisitor
from libcst.metadata import MetadataWrapper, PositionProvider

from ...analysis import Finding
from ..base import Refusal, TargetContext, awaited

Pos = tuple[str, int, int, int, int]

_OPENS = frozenset({"builtins.open", "io.open", "pathlib.Path.open"})
_HANDLE_METHODS = frozenset({"read", "read1", "readline", "readlines", "readinto", "write", "writelines",
                             "flush", "truncate", "seek", "tell", "close"})
_HANDLE_ATTRS = frozenset({"name", "mode", "closed", "encoding", "errors", "newlines"})
_LOADS = frozenset({"json.load", "pickle.load"})
_DUMPS = frozenset({"json.dump", "pickle.dump"})
# aiofiles >= 23.2 (aiofiles.os.path.ismount and aiofiles.os.statvfs arrived in 23.2)
_AIOFILES_OSPATH = frozenset({"exists", "isfile", "isdir", "islink", "ismount", "getsize", "getmtime",
                              "getatime", "getctime", "samefile", "sameopenfile"})
_AIOFILES_OS = frozenset({"makedirs", "mkdir", "remove", "unlink", "rename", "renames", "replace", "rmdir",
                          "removedirs", "listdir", "scandir", "stat", "link", "symlink", "readlink", "access",
                          "statvfs", "sendfile"})
_ANYIO_OSPATH = {"exists": "exists", "isfile": "is_file", "isdir": "is_dir", "islink": "is_symlink",
                 "ismount": "is_mount"}
_ANYIO_OSPATH_STAT = {"getsize": "st_size", "getmtime": "st_mtime", "getatime": "st_atime", "getctime": "st_ctime"}
_ANYIO_OS_ONE_ARG = {"mkdir": "mkdir", "remove": "unlink", "unlink": "unlink", "rmdir": "rmdir"}
# pathlib.Path methods -> aiofiles.os(.path) functions taking the path first (no other arguments)
_PATH_TO_AIOFILES = {"exists": "path.exists", "is_file": "path.isfile", "is_dir": "path.isdir",
                     "is_symlink": "path.islink", "is_mount": "path.ismount", "rmdir": "rmdir"}
# pathlib.Path methods anyio.Path mirrors with the same signature and an equivalent result
_ANYIO_PATH_SAME = frozenset({"exists", "is_file", "is_dir", "is_symlink", "is_mount", "stat", "lstat",
                              "read_text", "read_bytes", "write_text", "write_bytes", "mkdir", "unlink",
                              "rmdir", "touch", "samefile", "chmod", "owner", "group", "symlink_to",
                              "hardlink_to"})
# they return a path (anyio.Path, not pathlib.Path) or an iterator: callers would change meaning
_PATH_RETURNING = frozenset({"iterdir", "glob", "rglob", "walk", "resolve", "readlink", "expanduser"})
_NO_FALLBACK = {
    "os.walk": "os.walk is a lazy generator: iterating it blocks; no async equivalent",
    "glob.iglob": "glob.iglob is a lazy iterator: iterating it blocks; use glob.glob in a thread",
    "shutil.copyfileobj": "shutil.copyfileobj works on file objects: convert the files first",
}


class FilesTarget:
    """Files, paths and file-system calls -> aiofiles / anyio (see the module docstring)."""

    name = "files"
    requirements: tuple[str, ...] = ("aiofiles>=23.2", "anyio>=4")

    def __init__(self) -> None:
        self._known: dict[Pos, str] = {}  # findings seen by ``handles``: position -> API
        self._module: cst.Module | None = None  # the original module the caches below belong to
        self._positions: dict[cst.CSTNode, tuple[int, int, int, int]] = {}
        self._verdicts: dict[cst.CSTNode, str | None] = {}  # original With -> refusal reason or None
        self._dropped: set[tuple[str, str | None]] = set()
        self._opened: set[cst.CSTNode] = set()  # original open calls of `with` items turned async

    # ----- contract ------------------------------------------------------------------------------
    def handles(self, finding: Finding) -> bool:
        call = finding.call
        ok = (call in _OPENS or call in _LOADS or call in _DUMPS
              or call.startswith(("io.File.", "os.path.", "posixpath.", "pathlib.Path.", "shutil."))
              or (call.startswith("os.") and finding.code == "AM131") or call == "glob.glob")
        if ok:
            self._known[(finding.path, finding.line, finding.col, finding.end_line, finding.end_col)] = call
        return ok

    def rewrite_call(self, call: cst.Call, original: cst.Call, finding: Finding,
                     ctx: TargetContext) -> cst.BaseExpression | Refusal:
        api = finding.call
        self._known[(finding.path, finding.line, finding.col, finding.end_line, finding.end_col)] = api
        if finding.chained:
            return Refusal(f"chained calls on the result ({', '.join(finding.chained)}) are not rewritten")
        if api in _OPENS:
            return self._open(call, original, api, ctx)
        if api.startswith("io.File."):
            return self._handle_method(call, original, ctx)
        if api in _LOADS or api in _DUMPS:
            return self._load_dump(call, original, api, ctx)
        if api.startswith(("os.path.", "posixpath.")):
            return self._os_path(call, original, api.rsplit(".", 1)[1], api, ctx)
        if api.startswith("pathlib.Path."):
            return self._pathlib(call, original, api.rsplit(".", 1)[1], ctx)
        if api.startswith("os."):
            return self._os(call, original, api.split(".", 1)[1], api, ctx)
        return self._fallback(call, api, ctx)

    def rewrite_module(self, module: cst.Module, ctx: TargetContext) -> cst.Module:
        module = module.visit(_AsyncWith(ctx.config.file_backend))
        module = module.visit(_ParenthesizeAwait())
        if self._dropped:
            context = CodemodContext()
            for mod, obj in sorted(self._dropped, key=str):
                RemoveImportsVisitor.remove_unused_import(context, mod, obj)
            module = RemoveImportsVisitor(context).transform_module(module)
            self._dropped.clear()
        return module

    # ----- open / with ---------------------------------------------------------------------------
    def _open(self, call: cst.Call, original: cst.Call, api: str,
              ctx: TargetContext) -> cst.BaseExpression | Refusal:
        item = ctx.parent(original)
        if not isinstance(item, cst.WithItem) or item.item is not original:
            return Refusal("`open()` outside a `with` statement: the file object's lifetime is not visible; "
                           "rewrite it as `async with aiofiles.open(...)` by hand")
        reason = self._verdict(ctx.parent(item), ctx)
        if reason:
            return Refusal(reason)
        self._opened.add(original)
        return _async_open(call, api, ctx)

    def _verdict(self, with_node: cst.CSTNode | None, ctx: TargetContext) -> str | None:
        if not isinstance(with_node, cst.With):
            return "the open call is not a `with` item"
        self._sync(ctx)
        if with_node not in self._verdicts:
            self._verdicts[with_node] = self._judge(with_node, ctx)
        return self._verdicts[with_node]

    def _sync(self, ctx: TargetContext) -> None:
        if self._module is not ctx.module:
            self._module = ctx.module
            self._positions = {n: (r.start.line, r.start.column, r.end.line, r.end.column) for n, r in
                               MetadataWrapper(ctx.module, unsafe_skip_copy=True).resolve(PositionProvider).items()}
            self._verdicts = {}
            self._opened = set()

    def _judge(self, node: cst.With, ctx: TargetContext) -> str | None:
        """Why the ``with`` cannot become ``async with`` (None: it can)."""
        if node.asynchronous is not None:
            return "already an `async with`"
        fn = ctx.enclosing_function(node)
        if fn is None or not ctx.is_async_after(fn):
            return "the `with` is not in a function that becomes async"
        handles: list[str] = []
        for item in node.items:
            if not isinstance(item.item, cst.Call) or self._api_at(item.item, ctx) not in _OPENS:
                return "the `with` mixes a file open with other context managers"
            if item.asname is not None:
                if not isinstance(item.asname.name, cst.Name):
                    return "the file object is not bound to a plain name"
                handles.append(item.asname.name.value)
        for name in handles:
            reason = self._uses_ok(node, name, ctx)
            if reason:
                return reason
        return None

    def _uses_ok(self, node: cst.With, name: str, ctx: TargetContext) -> str | None:
        uses = [n for n in m.findall(node.body, m.Name(name)) if isinstance(n, cst.Name)]
        loads = 0
        plain = 0
        for use in uses:
            up = ctx.parent(use)
            if isinstance(up, cst.Attribute) and up.attr is use:
                continue  # `x.f`: an attribute name, not the file object
            if isinstance(up, cst.Arg) and up.keyword is use:
                continue
            where = self._nesting(use, node, ctx)
            if where:
                return f"the file object `{name}` is used {where}"
            if isinstance(up, (cst.AssignTarget, cst.AsName)) or (
                    isinstance(up, (cst.AugAssign, cst.AnnAssign, cst.For, cst.CompFor)) and up.target is use):
                return f"the file object `{name}` is rebound inside the `with` block"
            if isinstance(up, cst.Attribute) and up.value is use:
                call = ctx.parent(up)
                if isinstance(call, cst.Call) and call.func is up:
                    if up.attr.value not in _HANDLE_METHODS:
                        return f"`{name}.{up.attr.value}()` has no async counterpart the codemod knows"
                    plain += 1
                    continue
                if up.attr.value in _HANDLE_ATTRS:
                    continue
                return f"`{name}.{up.attr.value}` is used as a value"
            if isinstance(up, cst.Arg):
                call = ctx.parent(up)
                api = self._api_at(call, ctx) if isinstance(call, cst.Call) else ""
                if api in _LOADS and _is_arg(call, up, 0):
                    loads += api == "pickle.load"
                    plain += api == "json.load"
                    continue
                if api in _DUMPS and _is_arg(call, up, 1):
                    plain += 1
                    continue
                return f"the file object `{name}` is passed to another call"
            if isinstance(up, cst.For) and up.iter is use:
                plain += 1
                continue
            if isinstance(up, cst.CompFor) and up.iter is use:
                plain += 1
                continue
            return f"the file object `{name}` is used as a value"
        if loads and (loads > 1 or plain):
            return "pickle.load reads one object at a time: with other reads of the same file it cannot " \
                   "become pickle.loads(await f.read())"
        return None

    @staticmethod
    def _nesting(use: cst.CSTNode, top: cst.CSTNode, ctx: TargetContext) -> str:
        current = ctx.parent(use)
        while current is not None and current is not top:
            if isinstance(current, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
                return "inside a nested function, lambda or class"
            if isinstance(current, cst.GeneratorExp):
                return "inside a generator expression"
            current = ctx.parent(current)
        return ""

    def _bound_by_with(self, name: cst.BaseExpression, original: cst.CSTNode, ctx: TargetContext) -> str | None:
        """Why ``name`` is not a file object of a ``with`` this target converts (None: it is)."""
        if not isinstance(name, cst.Name):
            return "the file object is not a plain name bound by `with open(...) as f`"
        current = ctx.parent(original)
        while current is not None and not isinstance(current, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            if isinstance(current, cst.With):
                for item in current.items:
                    if item.asname is not None and m.matches(item.asname.name, m.Name(name.value)):
                        reason = self._verdict(current, ctx)
                        if reason is None and item.item not in self._opened:
                            # the driver visits `with` items before the block: the open was refused
                            return "the `with open(...)` that binds it was not converted"
                        return reason
            current = ctx.parent(current)
        return f"`{name.value}` is not bound by a `with open(...)` around this call: its lifetime is not visible"

    def _handle_method(self, call: cst.Call, original: cst.Call, ctx: TargetContext) -> cst.BaseExpression | Refusal:
        if not isinstance(original.func, cst.Attribute):
            return Refusal("not a method call on a file object")
        reason = self._bound_by_with(original.func.value, original, ctx)
        if reason:
            return Refusal(reason)
        return awaited(_handle_call(call, ctx.config.file_backend))

    def _load_dump(self, call: cst.Call, original: cst.Call, api: str,
                   ctx: TargetContext) -> cst.BaseExpression | Refusal:
        index = 0 if api in _LOADS else 1
        args = list(call.args)
        if any(a.star for a in args) or len(args) <= index or args[index].keyword is not None:
            return Refusal(f"{api}: the file object is not a plain positional argument")
        reason = self._bound_by_with(original.args[index].value, original, ctx)
        if reason:
            return Refusal(reason)
        handle = args[index].value
        module, fn = api.split(".")
        func = _sibling(call.func, fn + "s", module, ctx)
        if api in _LOADS:
            read = awaited(cst.Call(cst.Attribute(handle, cst.Name("read"))))
            return call.with_changes(func=func, args=[args[0].with_changes(value=read), *args[1:]])
        rest = args[:1] + args[2:]
        rest[-1] = rest[-1].with_changes(comma=args[-1].comma)
        if len(rest) == 1 and len(args) > 1:
            rest[-1] = rest[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        dumped = call.with_changes(func=func, args=rest)
        return awaited(cst.Call(cst.Attribute(handle, cst.Name("write")), [cst.Arg(dumped)]))

    def _api_at(self, node: cst.CSTNode, ctx: TargetContext) -> str:
        self._sync(ctx)
        pos = self._positions.get(node)
        return self._known.get((ctx.path, *pos), "") if pos else ""

    # ----- os.path / os / pathlib ----------------------------------------------------------------
    def _os_path(self, call: cst.Call, original: cst.Call, fn: str, api: str,
                 ctx: TargetContext) -> cst.BaseExpression | Refusal:
        self._drop(original)
        if ctx.config.file_backend == "anyio":
            path = _sole_arg(call)
            if path is not None and fn in _ANYIO_OSPATH:
                return awaited(_anyio_path_call(path, _ANYIO_OSPATH[fn], [], ctx))
            if path is not None and fn in _ANYIO_OSPATH_STAT:
                stat = _anyio_path_call(path, "stat", [], ctx)
                return cst.Attribute(_paren(awaited(stat)), cst.Name(_ANYIO_OSPATH_STAT[fn]))
            return self._fallback(call, api, ctx)
        if fn in _AIOFILES_OSPATH:
            ctx.add_import("aiofiles.os")
            return awaited(call.with_changes(func=_dotted(f"aiofiles.os.path.{fn}")))
        return self._fallback(call, api, ctx)

    def _os(self, call: cst.Call, original: cst.Call, fn: str, api: str,
            ctx: TargetContext) -> cst.BaseExpression | Refusal:
        if api in _NO_FALLBACK:
            return Refusal(_NO_FALLBACK[api])
        if ctx.config.file_backend == "anyio":
            path = _sole_arg(call)
            if path is not None and fn in _ANYIO_OS_ONE_ARG:
                self._drop(original)
                return awaited(_anyio_path_call(path, _ANYIO_OS_ONE_ARG[fn], [], ctx))
            if fn == "makedirs" and call.args and not call.args[0].keyword and not call.args[0].star and all(
                    a.keyword is not None and a.keyword.value in ("exist_ok", "mode") for a in call.args[1:]):
                self._drop(original)
                kw = [cst.Arg(cst.Name("True"), keyword=cst.Name("parents"), equal=_EQ)]
                kw += [a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in call.args[1:]]
                return awaited(_anyio_path_call(call.args[0].value, "mkdir", kw, ctx))
            return self._fallback(call, api, ctx)
        if fn in _AIOFILES_OS:
            self._drop(original)
            ctx.add_import("aiofiles.os")
            return awaited(call.with_changes(func=_dotted(f"aiofiles.os.{fn}")))
        return self._fallback(call, api, ctx)

    def _pathlib(self, call: cst.Call, original: cst.Call, method: str,
                 ctx: TargetContext) -> cst.BaseExpression | Refusal:
        if not isinstance(call.func, cst.Attribute):
            return Refusal("not a method call on a path")
        if method in _PATH_RETURNING:
            return Refusal(f"Path.{method}() returns paths or an iterator: anyio.Path would change their type")
        recv = _unparen(call.func.value)
        args = list(call.args)
        result_used = not isinstance(ctx.parent(original), cst.Expr)
        if method in ("rename", "replace"):
            if result_used:
                return Refusal(f"the result of Path.{method}() is used: anyio.Path returns another type")
            if len(args) != 1 or args[0].keyword or args[0].star:
                return Refusal(f"Path.{method}() with unusual arguments")
            if ctx.config.file_backend == "anyio":
                return awaited(_anyio_path_call(recv, method, args, ctx))
            ctx.add_import("aiofiles.os")
            return awaited(cst.Call(_dotted(f"aiofiles.os.{method}"), [cst.Arg(recv, comma=_COMMA), *args]))
        if ctx.config.file_backend != "anyio":
            if method in _PATH_TO_AIOFILES and not args:
                ctx.add_import("aiofiles.os")
                return awaited(cst.Call(_dotted(f"aiofiles.os.{_PATH_TO_AIOFILES[method]}"), [cst.Arg(recv)]))
            if method == "unlink" and not args:
                ctx.add_import("aiofiles.os")
                return awaited(cst.Call(_dotted("aiofiles.os.unlink"), [cst.Arg(recv)]))
            if method == "stat" and all(a.keyword is not None and a.keyword.value == "follow_symlinks" for a in args):
                ctx.add_import("aiofiles.os")
                return awaited(cst.Call(_dotted("aiofiles.os.stat"), [cst.Arg(recv, comma=_COMMA if args else
                                                                               cst.MaybeSentinel.DEFAULT), *args]))
            if method == "mkdir":
                mkdir = _mkdir(recv, args)
                if mkdir is not None:
                    ctx.add_import("aiofiles.os")
                    return awaited(mkdir)
        if method in _ANYIO_PATH_SAME:
            return awaited(_anyio_path_call(recv, method, args, ctx))
        return Refusal(f"Path.{method}() has no async equivalent in aiofiles or anyio.Path")

    def _fallback(self, call: cst.Call, api: str, ctx: TargetContext) -> cst.BaseExpression | Refusal:
        """No async API: ``await asyncio.to_thread(f, *args)`` (anyio: ``anyio.to_thread.run_sync``)."""
        if api in _NO_FALLBACK:
            return Refusal(_NO_FALLBACK[api])
        if api.startswith("pathlib."):
            return Refusal(f"{api} has no async equivalent")
        fn = call.func
        args = list(call.args)
        if args:
            args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        if ctx.config.file_backend == "anyio":
            ctx.add_import("anyio.to_thread")
            if any(a.keyword is not None or a.star == "**" for a in args):
                ctx.add_import("functools")
                inner = cst.Call(_dotted("functools.partial"), [cst.Arg(fn, comma=_COMMA), *args])
                return awaited(cst.Call(_dotted("anyio.to_thread.run_sync"), [cst.Arg(inner)]))
            return awaited(cst.Call(_dotted("anyio.to_thread.run_sync"),
                                    [cst.Arg(fn, comma=_COMMA if args else cst.MaybeSentinel.DEFAULT), *args]))
        ctx.add_import("asyncio")
        return awaited(cst.Call(_dotted("asyncio.to_thread"),
                                [cst.Arg(fn, comma=_COMMA if args else cst.MaybeSentinel.DEFAULT), *args]))

    def _drop(self, original: cst.Call) -> None:
        """The import the call used, removed at the end when nothing else uses it."""
        func = original.func
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
            self._dropped.add((func.value.value, None))
        elif isinstance(func, cst.Attribute) and m.matches(func.value, m.Attribute(m.Name("os"), m.Name("path"))):
            self._dropped.add(("os", None))
            self._dropped.add(("os.path", None))


# ---------------------------------------------------------------------------------------------
# Node helpers
# ---------------------------------------------------------------------------------------------

_COMMA = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
_EQ = cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))


def _dotted(name: str) -> cst.BaseExpression:
    parts = name.split(".")
    expr: cst.BaseExpression = cst.Name(parts[0])
    for part in parts[1:]:
        expr = cst.Attribute(expr, cst.Name(part))
    return expr


def _paren(expr: cst.BaseExpression) -> cst.BaseExpression:
    return expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


def _unparen(expr: cst.BaseExpression) -> cst.BaseExpression:
    if expr.lpar and not isinstance(expr, (cst.Tuple, cst.GeneratorExp, cst.Yield)):
        return expr.with_changes(lpar=[], rpar=[])
    return expr


def _is_arg(call: cst.Call, arg: cst.Arg, index: int) -> bool:
    return len(call.args) > index and call.args[index] is arg and arg.keyword is None and not arg.star


def _sole_arg(call: cst.Call) -> cst.BaseExpression | None:
    if len(call.args) == 1 and call.args[0].keyword is None and not call.args[0].star:
        return call.args[0].value
    return None


def _sibling(func: cst.BaseExpression, name: str, module: str, ctx: TargetContext) -> cst.BaseExpression:
    """``json.load`` -> ``json.loads`` keeping the module's alias; ``load`` (from-import) -> ``json.loads``."""
    if isinstance(func, cst.Attribute):
        return func.with_changes(attr=cst.Name(name))
    ctx.add_import(module)
    return _dotted(f"{module}.{name}")


def _anyio_path_call(path: cst.BaseExpression, method: str, args: Sequence[cst.Arg],
                     ctx: TargetContext) -> cst.Call:
    ctx.add_import("anyio")
    args = list(args)
    if args:
        args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    wrapped = cst.Call(_dotted("anyio.Path"), [cst.Arg(_unparen(path))])
    return cst.Call(cst.Attribute(wrapped, cst.Name(method)), args)


def _mkdir(path: cst.BaseExpression, args: list[cst.Arg]) -> cst.Call | None:
    """``Path.mkdir(mode, parents, exist_ok)`` -> ``aiofiles.os.makedirs/mkdir`` when the flags are literal."""
    names = ("mode", "parents", "exist_ok")
    given: dict[str, cst.Arg] = {}
    for i, a in enumerate(args):
        if a.star:
            return None
        key = a.keyword.value if a.keyword is not None else (names[i] if i < 3 else "")
        if key not in names:
            return None
        given[key] = a
    flags = {}
    for key in ("parents", "exist_ok"):
        value = given[key].value if key in given else cst.Name("False")
        if not m.matches(value, m.Name("True") | m.Name("False")):
            return None
        flags[key] = value.value  # type: ignore[attr-defined]
    out = [cst.Arg(path)]
    if "mode" in given:
        out.append(cst.Arg(given["mode"].value, keyword=cst.Name("mode"), equal=_EQ))
    if flags["parents"] == "True":
        if "exist_ok" in given:
            out.append(cst.Arg(given["exist_ok"].value, keyword=cst.Name("exist_ok"), equal=_EQ))
        fn = "makedirs"
    elif flags["exist_ok"] == "True":
        return None  # os.mkdir has no exist_ok: anyio.Path(p).mkdir(exist_ok=True)
    else:
        fn = "mkdir"
    out = [a.with_changes(comma=_COMMA) for a in out[:-1]] + out[-1:]
    return cst.Call(_dotted(f"aiofiles.os.{fn}"), out)


def _async_open(call: cst.Call, api: str, ctx: TargetContext) -> cst.BaseExpression:
    args = list(call.args)
    if api == "pathlib.Path.open":
        assert isinstance(call.func, cst.Attribute)
        args = [cst.Arg(_unparen(call.func.value), comma=_COMMA if args else cst.MaybeSentinel.DEFAULT), *args]
    if ctx.config.file_backend == "anyio":
        ctx.add_import("anyio")
        return awaited(cst.Call(_dotted("anyio.open_file"), args, lpar=call.lpar, rpar=call.rpar))
    ctx.add_import("aiofiles")
    return cst.Call(_dotted("aiofiles.open"), args, lpar=call.lpar, rpar=call.rpar)


def _handle_call(call: cst.Call, backend: str) -> cst.Call:
    if backend == "anyio" and m.matches(call.func, m.Attribute(attr=m.Name("close"))):
        return call.with_changes(func=call.func.with_changes(attr=cst.Name("aclose")))  # type: ignore[attr-defined]
    return call


_ASYNC_OPEN = m.Call(func=m.Attribute(m.Name("aiofiles"), m.Name("open")))
_ANYIO_OPEN = m.Await(expression=m.Call(func=m.Attribute(m.Name("anyio"), m.Name("open_file"))))


class _AsyncWith(cst.CSTTransformer):
    """Sync ``with`` over ``aiofiles.open``/``await anyio.open_file`` -> ``async with``, and its body."""

    def __init__(self, backend: str) -> None:
        super().__init__()
        self.backend = backend
        self.handles: list[tuple[set[str], int]] = []  # file names of each enclosing with, its depth
        self.awaited: set[int] = set()
        self.depth = 0  # nesting of functions and lambdas

    def _converts(self, node: cst.With) -> bool:
        return node.asynchronous is None and bool(node.items) and all(
            m.matches(i.item, _ASYNC_OPEN | _ANYIO_OPEN) for i in node.items)

    def visit_With(self, node: cst.With) -> None:
        names = {i.asname.name.value for i in node.items if i.asname is not None
                 and isinstance(i.asname.name, cst.Name)} if self._converts(node) or \
            (node.asynchronous is not None and all(m.matches(i.item, _ASYNC_OPEN | _ANYIO_OPEN)
                                                   for i in node.items)) else set()
        self.handles.append((names, self.depth))

    def leave_With(self, original_node: cst.With, updated_node: cst.With) -> cst.With:
        self.handles.pop()
        if self._converts(original_node):
            return updated_node.with_changes(asynchronous=cst.Asynchronous())
        return updated_node

    def _handle(self, expr: cst.BaseExpression) -> bool:
        return isinstance(expr, cst.Name) and any(expr.value in names and depth == self.depth
                                                  for names, depth in self.handles)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.depth += 1

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        self.depth -= 1
        return updated_node

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.depth += 1

    def leave_Lambda(self, original_node: cst.Lambda, updated_node: cst.Lambda) -> cst.Lambda:
        self.depth -= 1
        return updated_node

    def visit_Await(self, node: cst.Await) -> None:
        self.awaited.add(id(node.expression))

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        func = updated_node.func
        if id(original_node) in self.awaited:
            return updated_node
        if isinstance(func, cst.Attribute) and self._handle(func.value) and func.attr.value in _HANDLE_METHODS:
            return awaited(_handle_call(updated_node, self.backend))
        return updated_node

    def leave_For(self, original_node: cst.For, updated_node: cst.For) -> cst.For:
        if updated_node.asynchronous is None and self._handle(original_node.iter):
            return updated_node.with_changes(asynchronous=cst.Asynchronous())
        return updated_node

    def leave_CompFor(self, original_node: cst.CompFor, updated_node: cst.CompFor) -> cst.CompFor:
        if updated_node.asynchronous is None and self._handle(original_node.iter):
            return updated_node.with_changes(asynchronous=cst.Asynchronous())
        return updated_node


class _ParenthesizeAwait(cst.CSTTransformer):
    """``await x`` directly under an attribute, subscript or call gets parentheses."""

    @staticmethod
    def _fix(expr: cst.BaseExpression) -> cst.BaseExpression:
        if isinstance(expr, cst.Await) and not expr.lpar:
            return _paren(expr)
        return expr

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.Attribute:
        return updated_node.with_changes(value=self._fix(updated_node.value))

    def leave_Subscript(self, original_node: cst.Subscript, updated_node: cst.Subscript) -> cst.Subscript:
        return updated_node.with_changes(value=self._fix(updated_node.value))

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        return updated_node.with_changes(func=self._fix(updated_node.func))


__all__ = ["FilesTarget"]


TARGET = FilesTarget()

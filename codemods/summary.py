"""Per-module summaries built with ``ast`` in one pass.

A summary holds only what the cross-module analysis needs: what each global name is bound to,
classes (bases, methods, attribute values), functions (async or not, parameters, what they
return or yield) and every call site with the *symbolic value* of its callee.

Symbolic values (``SV``) are small tuples, resolved later against all summaries:

``("g", "pkg.mod.name")``   a global or external symbol by qualified name
``("fn", q)`` / ``("cls", q)`` a function / class of this project
``("call", sv, site, arg0, first)`` the result of calling ``sv`` (``site``: index of the call site, -1 at
                             module level; ``arg0``: a string literal first argument; ``first``: its SV)
``("attr", sv, name)``       attribute of ``sv``
``("ann", sv)``              an instance of the type that annotation ``sv`` denotes
``("alias", sv)``            a type alias (``X = Annotated[T, ...]``): annotating with it means ``sv``
``("dep", sv)``              FastAPI ``Depends(sv)``: what ``sv`` returns or yields
``("self", q)``              the instance inside a method of class ``q``
``("enter", sv)``            the target of ``with sv as target``
``("div", sv)``              ``sv / something`` (``pathlib.Path`` joins)
``("pipe", a, b)``           ``a | b`` (LangChain runnables)

Summaries are plain data (picklable, no ``ast`` nodes), so they can be cached by content hash.
Columns are 0-based *characters* (``ast`` counts UTF-8 bytes), matching libcst positions.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field

SV = tuple

SUMMARY_VERSION = 9
_BUILTINS = frozenset({"open", "input", "print", "len", "iter", "next", "range", "sorted", "map", "filter",
                       "super", "type", "isinstance", "getattr", "setattr", "hasattr", "vars", "dict", "list",
                       "set", "tuple", "str", "int", "float", "bool", "bytes", "min", "max", "sum", "any",
                       "all", "zip", "enumerate", "repr", "id", "hash", "callable", "exec", "eval",
                       "compile", "__import__", "format", "round", "abs", "object", "staticmethod",
                       "classmethod", "property", "breakpoint"})
_SUPPRESS_RE = re.compile(r"#\s*(?:asgi-migrate:\s*ignore(?:\[(?P<codes>[^\]]*)\])?"
                          r"|noqa(?::\s*(?P<noqa>[A-Z0-9, ]+))?)",
                          re.IGNORECASE)


_TYPE_ALIAS = getattr(ast, "TypeAlias", None)
_EXPIRE_FALSE = re.compile(r"expire_on_commit\s*=\s*False")
_SAME_THREAD_FALSE = re.compile(r"check_same_thread[\"']?\s*[=:]\s*False")


_FIELD_GETTERS: dict[type, Callable[[object], tuple]] = {}


def _as_tuple(self):  # type: ignore[no-untyped-def]
    """Pickle as (class, field values): 3-4x faster to load than slots state dicts (warm scans). The
    values are read by one C-level ``attrgetter`` per class (a generator per object cost a second per
    million-line cache write)."""
    cls = type(self)
    getter = _FIELD_GETTERS.get(cls)
    if getter is None:
        getter = _FIELD_GETTERS[cls] = operator.attrgetter(*cls.__dataclass_fields__)
    return (cls, getter(self))


@dataclass(slots=True)
class CallSite:
    callee: SV | None
    line: int
    col: int
    end_line: int
    end_col: int
    awaited: bool
    nargs: int
    kwnames: tuple[str, ...]
    arg0: str | None  # first positional argument when it is a string literal
    text: str  # dotted text of the callee (``self.session.exec``), "" when not a plain chain
    receiver_site: int  # index of the call site whose result is the receiver, -1 if none
    # already off the loop: ``f`` in ``to_thread(f, x)`` (a call "site" at the argument), or a call inside
    # ``to_thread(lambda: ...)``. Never reported; the native phase turns them back into awaited calls.
    offloaded: bool = False

    __reduce__ = _as_tuple


@dataclass(slots=True)
class FunctionSummary:
    qualname: str
    name: str
    is_async: bool
    line: int
    class_qualname: str | None = None
    kind: str = "function"  # function | method | staticmethod | classmethod | property
    params: list[tuple[str, SV | None]] = field(default_factory=list)
    returns: SV | None = None
    yields: SV | None = None
    is_generator: bool = False
    calls: list[CallSite] = field(default_factory=list)
    # attribute reads (name, receiver SV, line, col, end_line, end_col): a blocking @property runs on them
    attr_loads: list[tuple[str, SV, int, int, int, int]] = field(default_factory=list)
    # dotted text of each decorator, call arguments dropped (``@app.get("/x")`` -> ``app.get``)
    decorators: tuple[str, ...] = ()

    __reduce__ = _as_tuple


@dataclass(slots=True)
class ClassSummary:
    qualname: str
    name: str
    line: int
    bases: list[SV | None] = field(default_factory=list)
    methods: dict[str, str] = field(default_factory=dict)
    attrs: dict[str, SV] = field(default_factory=dict)
    relationships: set[str] = field(default_factory=set)  # ORM relationship attributes (lazy loads)

    __reduce__ = _as_tuple


@dataclass(slots=True)
class ModuleSummary:
    name: str
    path: str
    is_package: bool
    globals: dict[str, SV] = field(default_factory=dict)
    functions: dict[str, FunctionSummary] = field(default_factory=dict)
    classes: dict[str, ClassSummary] = field(default_factory=dict)
    star_imports: list[str] = field(default_factory=list)
    # line -> suppressed codes ("*" = all); ours under "am", linters' noqa under "noqa"
    suppress: dict[int, tuple[str, frozenset[str]]] = field(default_factory=dict)
    lines: int = 0
    # facts the hazard checks need about the whole project: "expire_on_commit_false", "check_same_thread_false"
    flags: frozenset[str] = frozenset()

    __reduce__ = _as_tuple


# Calls that run a function they are given in a worker thread: the position of that function argument.
_OFFLOADERS = {"to_thread": 0, "run_sync": 0, "run_in_threadpool": 0, "asyncify": 0, "run_in_executor": 1}


class _Ctx:
    """The function (or module / class body) whose frame executes the code being visited."""

    __slots__ = ("func", "env", "cls", "record", "offloaded")

    def __init__(self, func: FunctionSummary | None, env: dict[str, SV | None], cls: ClassSummary | None,
                 record: bool, offloaded: bool = False):
        self.func = func
        self.env = env
        self.cls = cls
        self.record = record  # whether calls here are recorded (False: lambdas, defaults, class bodies)
        self.offloaded = offloaded  # calls here run in a worker thread (a lambda given to to_thread)


class _Builder:
    def __init__(self, module: str, is_package: bool, source: str, path: str):
        self.module = module
        self.package = module if is_package else module.rpartition(".")[0]
        self.summary = ModuleSummary(module, path, is_package)
        self.lines = source.splitlines()
        self.ascii = source.isascii()  # then every column is already a character column
        self.ctx = _Ctx(None, self.summary.globals, None, False)
        self.scope: list[str] = [module]

    # ----- positions --------------------------------------------------------------------
    def _col(self, line: int, col: int) -> int:
        if self.ascii:
            return col
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        if text.isascii():
            return col
        return len(text.encode("utf-8")[:col].decode("utf-8", "replace"))

    # ----- names ------------------------------------------------------------------------
    def _resolve_relative(self, module: str | None, level: int) -> str:
        if level == 0:
            return module or ""
        base = self.package.split(".") if self.package else []
        if level > 1:
            base = base[: len(base) - (level - 1)]
        parts = base + ([module] if module else [])
        return ".".join(p for p in parts if p)

    def _name(self, name: str) -> SV | None:
        env = self.ctx.env
        if name in env:
            return env[name]
        if name in self.summary.globals:
            return ("g", f"{self.module}.{name}")
        if name in _BUILTINS:
            return ("g", f"builtins.{name}")
        return ("g", f"{self.module}.{name}")

    def _dotted(self, node: ast.expr) -> str:
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name):
            parts.append(node.id)
            return ".".join(reversed(parts))
        return ""

    # ----- annotations ------------------------------------------------------------------
    def _ann(self, node: ast.expr | None) -> SV | None:
        if node is None:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                node = ast.parse(node.value, mode="eval").body
            except SyntaxError:
                return None
        if isinstance(node, ast.Subscript):
            head = self._dotted(node.value).rpartition(".")[2]
            inner = node.slice
            if head == "Annotated" and isinstance(inner, ast.Tuple) and inner.elts:
                return self._ann(inner.elts[0])
            if head == "Optional":
                return self._ann(inner)
            if head == "Union" and isinstance(inner, ast.Tuple):
                options = [e for e in inner.elts if not (isinstance(e, ast.Constant) and e.value is None)]
                return self._ann(options[0]) if len(options) == 1 else None
            if head in ("Generator", "Iterator", "Iterable", "AsyncGenerator", "AsyncIterator", "ContextManager",
                        "AbstractContextManager", "AsyncContextManager"):
                first = inner.elts[0] if isinstance(inner, ast.Tuple) and inner.elts else inner
                return ("gen", self._ann(first))
            if head in ("ClassVar", "Final", "Required", "NotRequired", "ReadOnly"):
                return self._ann(inner)
            return self._ann(node.value)  # IO[bytes] -> IO, queue.Queue[int] -> queue.Queue, dict[...] -> dict
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            left, right = node.left, node.right
            if isinstance(right, ast.Constant) and right.value is None:
                return self._ann(left)
            if isinstance(left, ast.Constant) and left.value is None:
                return self._ann(right)
            return None
        if isinstance(node, (ast.Name, ast.Attribute)):
            base = self._expr_sv_pure(node)
            return ("ann", base) if base is not None else None
        return None

    def _expr_sv_pure(self, node: ast.expr) -> SV | None:
        """The SV of a name/attribute chain, without recording anything."""
        if isinstance(node, ast.Name):
            return self._name(node.id)
        if isinstance(node, ast.Attribute):
            base = self._expr_sv_pure(node.value)
            return ("attr", base, node.attr) if base is not None else None
        return None

    def _alias_value(self, node: ast.expr) -> SV | None:
        """A module-level ``X = Annotated[T, Depends(...)]`` is a type alias for ``T``."""
        if isinstance(node, ast.Subscript):
            head = self._dotted(node.value).rpartition(".")[2]
            if head in ("Annotated", "Optional", "Union"):
                ann = self._ann(node)
                if ann is not None and ann[0] == "ann":
                    return ("alias", ann[1])
        return None

    # ----- expressions ------------------------------------------------------------------
    def expr(self, node: ast.AST | None, awaited: bool = False) -> SV | None:
        if node is None:
            return None
        t = type(node)
        if t is ast.Name:
            return self._name(node.id)  # type: ignore[attr-defined]
        if t is ast.Attribute:
            base = self.expr(node.value)  # type: ignore[attr-defined]
            if base is None:
                return None
            func = self.ctx.func
            # a read inside `to_thread(lambda: obj.attr)` runs a blocking @property in the worker thread
            if func is not None and self.ctx.record and not self.ctx.offloaded \
                    and type(node.ctx) is ast.Load:  # type: ignore[attr-defined]
                func.attr_loads.append((node.attr, base, node.lineno,  # type: ignore[attr-defined]
                                        self._col(node.lineno, node.col_offset),  # type: ignore[attr-defined]
                                        node.end_lineno or node.lineno,  # type: ignore[attr-defined]
                                        self._col(node.end_lineno or node.lineno,  # type: ignore[attr-defined]
                                                  node.end_col_offset or 0)))  # type: ignore[attr-defined]
            return ("attr", base, node.attr)  # type: ignore[attr-defined]
        if t is ast.Call:
            return self._call(node, awaited)  # type: ignore[arg-type]
        if t is ast.Await:
            return self.expr(node.value, awaited=True)  # type: ignore[attr-defined]
        if t is ast.Constant:
            return None
        if t is ast.Subscript:
            base = self.expr(node.value)  # type: ignore[attr-defined]
            key = node.slice  # type: ignore[attr-defined]
            self.expr(key)
            if base is not None and isinstance(key, ast.Constant) and isinstance(key.value, str):
                return ("item", base, key.value)
            return None
        # common nodes whose children are all expressions, visited in field order like the generic walk
        # below, without its per-child dispatch (operators and contexts have nothing to visit)
        if t is ast.Compare:
            self.expr(node.left)  # type: ignore[attr-defined]
            for comparator in node.comparators:  # type: ignore[attr-defined]
                self.expr(comparator)
            return None
        if t is ast.BoolOp or t is ast.JoinedStr:
            for value in node.values:  # type: ignore[attr-defined]
                self.expr(value)
            return None
        if t is ast.Tuple:
            for elt in node.elts:  # type: ignore[attr-defined]
                self.expr(elt)
            return None
        if t is ast.UnaryOp:
            self.expr(node.operand)  # type: ignore[attr-defined]
            return None
        if t is ast.IfExp:
            self.expr(node.test)  # type: ignore[attr-defined]
            self.expr(node.body)  # type: ignore[attr-defined]
            self.expr(node.orelse)  # type: ignore[attr-defined]
            return None
        if t is ast.FormattedValue:
            self.expr(node.value)  # type: ignore[attr-defined]
            self.expr(node.format_spec)  # type: ignore[attr-defined]
            return None
        if t is ast.Dict or t is ast.DictComp:
            for child in ast.iter_child_nodes(node):
                self._any(child)
            return ("lit", "dict")
        if t is ast.List or t is ast.ListComp or t is ast.Set or t is ast.SetComp:
            for child in ast.iter_child_nodes(node):
                self._any(child)
            return ("lit", "list" if t in (ast.List, ast.ListComp) else "set")
        if t is ast.BinOp:
            left = self.expr(node.left)  # type: ignore[attr-defined]
            right = self.expr(node.right)  # type: ignore[attr-defined]
            op = type(node.op)  # type: ignore[attr-defined]
            if op is ast.Div and left is not None:
                return ("div", left)
            if op is ast.BitOr and (left is not None or right is not None):
                return ("pipe", left, right)
            return None
        if t is ast.NamedExpr:
            value = self.expr(node.value)  # type: ignore[attr-defined]
            if isinstance(node.target, ast.Name):  # type: ignore[attr-defined]
                self.ctx.env[node.target.id] = value  # type: ignore[attr-defined]
            return value
        if t is ast.Lambda:
            saved = self.ctx
            self.ctx = _Ctx(None, dict(saved.env), saved.cls, False)
            self.expr(node.body)  # type: ignore[attr-defined]
            self.ctx = saved
            return None
        if t is ast.Yield or t is ast.YieldFrom:
            value = self.expr(node.value)  # type: ignore[attr-defined]
            func = self.ctx.func
            if func is not None and self.ctx.record:
                func.is_generator = True
                if t is ast.Yield and func.yields is None:
                    func.yields = value
            return None
        for child in ast.iter_child_nodes(node):
            self._any(child)
        return None

    def _offloaded_argument(self, arg: ast.expr, call: ast.Call, index: int) -> None:
        """``f`` in ``to_thread(f, *args)``: a site for ``f`` marked offloaded; a lambda's calls likewise."""
        func = self.ctx.func
        assert func is not None
        if isinstance(arg, ast.Lambda):
            saved = self.ctx
            self.ctx = _Ctx(func, dict(saved.env), saved.cls, True, offloaded=True)
            self.expr(arg.body)
            self.ctx = saved
            return
        value = self.expr(arg)
        if value is None or not isinstance(arg, (ast.Name, ast.Attribute)):
            return
        rest = call.args[index + 1:]
        func.calls.append(CallSite(
            value, arg.lineno, self._col(arg.lineno, arg.col_offset), arg.end_lineno or arg.lineno,
            self._col(arg.end_lineno or arg.lineno, arg.end_col_offset or 0), False, len(rest),
            tuple(k.arg or "**" for k in call.keywords), None, self._dotted(arg), -1, True))

    def _any(self, node: ast.AST) -> None:
        if isinstance(node, ast.expr):
            self.expr(node)
        elif isinstance(node, ast.stmt):
            self.stmt(node)
        else:
            for child in ast.iter_child_nodes(node):
                self._any(child)

    def _call(self, node: ast.Call, awaited: bool) -> SV | None:
        if isinstance(node.func, ast.Attribute):  # a method call, not an attribute read
            base = self.expr(node.func.value)
            func_sv = ("attr", base, node.func.attr) if base is not None else None
        else:
            func_sv = self.expr(node.func)
        receiver_site = -1
        if isinstance(node.func, ast.Attribute):
            value = node.func.value
            while isinstance(value, ast.Await):
                value = value.value
            if isinstance(value, ast.Call):
                receiver_site = getattr(value, "_site", -1)
        arg0 = None
        if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            arg0 = node.args[0].value
        head = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        first: SV | None = None
        offload_at = _OFFLOADERS.get(head, -1) if self.ctx.func is not None and self.ctx.record else -1
        if head == "run_sync" and not self._dotted(node.func).endswith("to_thread.run_sync"):
            offload_at = -1  # AsyncConnection.run_sync / greenlet helpers run on the loop's own terms
        for index, arg in enumerate(node.args):
            if index == offload_at:
                self._offloaded_argument(arg, node, index)
                continue
            value = self.expr(arg)
            if index == 0:
                first = value
        for kw in node.keywords:
            self.expr(kw.value)
        if head in ("Depends", "Security") and node.args:
            return ("dep", self._expr_sv_pure(node.args[0]) if isinstance(node.args[0], (ast.Name, ast.Attribute))
                    else None)
        site = -1
        func = self.ctx.func
        if func is not None and self.ctx.record:
            site = len(func.calls)
            func.calls.append(CallSite(
                func_sv, node.lineno, self._col(node.lineno, node.col_offset),
                node.end_lineno or node.lineno, self._col(node.end_lineno or node.lineno, node.end_col_offset or 0),
                awaited, len(node.args), tuple(k.arg or "**" for k in node.keywords), arg0,
                self._dotted(node.func), receiver_site, self.ctx.offloaded))
            node._site = site  # type: ignore[attr-defined]
        return ("call", func_sv, site, arg0, first) if func_sv is not None else None

    # ----- statements -------------------------------------------------------------------
    def _bind(self, target: ast.expr, value: SV | None) -> None:
        env = self.ctx.env
        if isinstance(target, ast.Name):
            env[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self._bind(elt.value if isinstance(elt, ast.Starred) else elt, None)
        elif isinstance(target, ast.Attribute):
            self.expr(target.value)
            cls = self.ctx.cls
            if (cls is not None and isinstance(target.value, ast.Name) and target.value.id == "self"
                    and value is not None):
                current = cls.attrs.get(target.attr)
                if current is None or (self.ctx.func is not None and self.ctx.func.name == "__init__"
                                       and current[0] != "ann"):
                    cls.attrs[target.attr] = value
        else:
            self.expr(target)

    def _note_relationship(self, name: str, value: ast.expr | None) -> None:
        if isinstance(value, ast.Call) and self._dotted(value.func).rpartition(".")[2] in (
                "relationship", "Relationship"):
            lazy = next((k.value for k in value.keywords if k.arg == "lazy"), None)
            eager = isinstance(lazy, ast.Constant) and lazy.value in ("selectin", "joined", "subquery", "immediate")
            if not eager:
                self.ctx.cls.relationships.add(name)  # type: ignore[union-attr]

    def stmt(self, node: ast.stmt) -> None:
        t = type(node)
        if t is ast.Expr:
            self.expr(node.value)  # type: ignore[attr-defined]
        elif t is ast.Assign:
            value = self.expr(node.value)  # type: ignore[attr-defined]
            if self.ctx.func is None and self.ctx.cls is not None:
                for target in node.targets:  # type: ignore[attr-defined]
                    if isinstance(target, ast.Name):
                        self._note_relationship(target.id, node.value)  # type: ignore[attr-defined]
            if self.ctx.func is None and self.ctx.cls is None:
                alias = self._alias_value(node.value)  # type: ignore[attr-defined]
                value = alias or value
            for target in node.targets:  # type: ignore[attr-defined]
                self._bind(target, value)
        elif t is ast.AnnAssign:
            value = self.expr(node.value) if node.value is not None else None  # type: ignore[attr-defined]
            ann_text = self._dotted(node.annotation)  # type: ignore[attr-defined]
            if ann_text.rpartition(".")[2] == "TypeAlias" and node.value is not None:  # type: ignore[attr-defined]
                value = self._alias_value(node.value) or value  # type: ignore[attr-defined]
            else:
                ann = self._ann(node.annotation)  # type: ignore[attr-defined]
                value = ann or value
            self._bind(node.target, value)  # type: ignore[attr-defined]
            if self.ctx.func is None and self.ctx.cls is not None and isinstance(node.target, ast.Name):
                if value is not None:
                    self.ctx.cls.attrs[node.target.id] = value  # type: ignore[attr-defined]
                self._note_relationship(node.target.id, node.value)  # type: ignore[attr-defined]
        elif t is ast.AugAssign:
            self.expr(node.value)  # type: ignore[attr-defined]
            self.expr(node.target)  # type: ignore[attr-defined]
        elif t is ast.With or t is ast.AsyncWith:
            for item in node.items:  # type: ignore[attr-defined]
                value = self.expr(item.context_expr)
                if item.optional_vars is not None:
                    self._bind(item.optional_vars, ("enter", value) if value is not None else None)
            for s in node.body:  # type: ignore[attr-defined]
                self.stmt(s)
        elif t is ast.For or t is ast.AsyncFor:
            self.expr(node.iter)  # type: ignore[attr-defined]
            self._bind(node.target, None)  # type: ignore[attr-defined]
            for s in node.body:  # type: ignore[attr-defined]
                self.stmt(s)
            for s in node.orelse:  # type: ignore[attr-defined]
                self.stmt(s)
        elif t is ast.Return:
            value = self.expr(node.value)  # type: ignore[attr-defined]
            func = self.ctx.func
            if func is not None and self.ctx.record and func.returns is None and value is not None:
                func.returns = value
        elif t is _TYPE_ALIAS:  # `type X = ...` parsed natively (Python 3.12+)
            value = self._alias_value(node.value) or self.expr(node.value)  # type: ignore[attr-defined]
            self._bind(node.name, value)  # type: ignore[attr-defined]
        elif t is ast.FunctionDef or t is ast.AsyncFunctionDef:
            self._function(node)  # type: ignore[arg-type]
        elif t is ast.ClassDef:
            self._class(node)  # type: ignore[arg-type]
        elif t is ast.Import:
            for alias in node.names:  # type: ignore[attr-defined]
                if alias.asname:
                    self.ctx.env[alias.asname] = ("g", alias.name)
                else:
                    head = alias.name.split(".", 1)[0]
                    self.ctx.env[head] = ("g", head)
        elif t is ast.ImportFrom:
            base = self._resolve_relative(node.module, node.level)  # type: ignore[attr-defined]
            for alias in node.names:  # type: ignore[attr-defined]
                if alias.name == "*":
                    if self.ctx.func is None:
                        self.summary.star_imports.append(base)
                    continue
                self.ctx.env[alias.asname or alias.name] = ("g", f"{base}.{alias.name}" if base else alias.name)
        else:
            for child in ast.iter_child_nodes(node):
                self._any(child)

    def _decorator_kind(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
        for dec in node.decorator_list:
            name = self._dotted(dec).rpartition(".")[2]
            if name in ("staticmethod", "classmethod", "property"):
                return name
            if name in ("setter", "getter", "deleter", "cached_property"):
                return "property"
        return "method"

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        outer = self.ctx
        # Decorators and defaults run in the enclosing frame, but are never reported there.
        saved_record = outer.record
        outer.record = False
        for dec in node.decorator_list:
            self.expr(dec)
        args = node.args
        for default in list(args.defaults) + [d for d in args.kw_defaults if d is not None]:
            self.expr(default)
        outer.record = saved_record

        in_class = outer.cls is not None and outer.func is None
        if in_class:
            qualname = f"{outer.cls.qualname}.{node.name}"  # type: ignore[union-attr]
        elif outer.func is not None:
            qualname = f"{outer.func.qualname}.<locals>.{node.name}"
        else:
            qualname = f"{self.module}.{node.name}"
        summary = FunctionSummary(qualname, node.name, isinstance(node, ast.AsyncFunctionDef), node.lineno)
        summary.decorators = tuple(self._dotted(d.func if isinstance(d, ast.Call) else d) for d in node.decorator_list)
        if in_class:
            summary.class_qualname = outer.cls.qualname  # type: ignore[union-attr]
            summary.kind = self._decorator_kind(node)
            outer.cls.methods[node.name] = qualname  # type: ignore[union-attr]
        self.summary.functions[qualname] = summary
        if not in_class:
            outer.env[node.name] = ("fn", qualname)

        env: dict[str, SV | None] = dict(outer.env) if outer.func is not None else {}
        positional = list(args.posonlyargs) + list(args.args)
        defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
        params = list(zip(positional, defaults)) + list(zip(args.kwonlyargs, args.kw_defaults))
        for index, (arg, default) in enumerate(params):
            value = self._ann(arg.annotation)
            if default is not None and isinstance(default, ast.Call):
                head = self._dotted(default.func).rpartition(".")[2]
                if head in ("Depends", "Security") and default.args and value is None:
                    value = ("dep", self._expr_sv_pure(default.args[0]))
            if index == 0 and in_class and summary.kind in ("method", "property"):
                value = ("self", summary.class_qualname)
            elif index == 0 and in_class and summary.kind == "classmethod":
                value = ("cls", summary.class_qualname)
            env[arg.arg] = value
            summary.params.append((arg.arg, value))
        for extra in (args.vararg, args.kwarg):
            if extra is not None:
                env[extra.arg] = None
        ret = self._ann(node.returns)
        if ret is not None and ret[0] == "gen":
            summary.yields = ret[1]
        elif ret is not None:
            summary.returns = ret

        self.ctx = _Ctx(summary, env, outer.cls if in_class else None, True)
        for s in node.body:
            self.stmt(s)
        self.ctx = outer

    def _class(self, node: ast.ClassDef) -> None:
        outer = self.ctx
        saved_record = outer.record
        outer.record = False
        for dec in node.decorator_list:
            self.expr(dec)
        bases = [self.expr(b) for b in node.bases]
        for kw in node.keywords:
            self.expr(kw.value)
        outer.record = saved_record
        if outer.func is not None:
            qualname = f"{outer.func.qualname}.<locals>.{node.name}"
        elif outer.cls is not None:
            qualname = f"{outer.cls.qualname}.{node.name}"
        else:
            qualname = f"{self.module}.{node.name}"
        cls = ClassSummary(qualname, node.name, node.lineno, bases)
        self.summary.classes[qualname] = cls
        outer.env[node.name] = ("cls", qualname)
        # The class body runs once at definition time: names are class attributes, calls unrecorded.
        self.ctx = _Ctx(None, {}, cls, False)
        for s in node.body:
            self.stmt(s)
        body_env = self.ctx.env
        self.ctx = outer
        for name, value in body_env.items():
            if value is not None and name not in cls.attrs and name not in cls.methods:
                cls.attrs[name] = value

    def build(self, tree: ast.Module, source: str) -> ModuleSummary:
        for s in tree.body:
            self.stmt(s)
        self.summary.lines = len(self.lines)
        flags = set()
        if "expire_on_commit" in source and _EXPIRE_FALSE.search(source):
            flags.add("expire_on_commit_false")
        if "check_same_thread" in source and _SAME_THREAD_FALSE.search(source):
            flags.add("check_same_thread_false")
        self.summary.flags = frozenset(flags)
        if "#" in source:
            for m in _SUPPRESS_RE.finditer(source):
                line = source.count("\n", 0, m.start()) + 1
                ours = m.group(0).lower().lstrip("# ").startswith("asgi")
                codes = m.group("codes") if ours else m.group("noqa")
                parsed = frozenset(c.upper() for c in re.split(r"[,\s]+", codes) if c) if codes else frozenset()
                entry = ("am" if ours else "noqa", parsed or frozenset({"*"}))
                previous = self.summary.suppress.get(line)
                if previous is None:
                    self.summary.suppress[line] = entry
                else:  # both kinds on one line: keep both sets
                    self.summary.suppress[line] = ("both", previous[1] | entry[1])
        return self.summary


def summarize(source: str, module: str, path: str = "", is_package: bool = False) -> ModuleSummary:
    """Summarise one module. Raises ``SyntaxError`` (and ``ValueError`` for NUL bytes) on bad input."""
    try:
        tree = ast.parse(source, filename=path or "<unknown>")
    except SyntaxError:
        # Maybe valid code for a newer Python than this one (PEP 695, PEP 701): lower it and retry.
        from .compat import lower_source

        lowered = lower_source(source)
        if lowered is None or lowered == source:
            raise
        tree = ast.parse(lowered, filename=path or "<unknown>")
        source = lowered
    return _Builder(module, is_package, source, path).build(tree, source)

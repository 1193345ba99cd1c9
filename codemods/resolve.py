"""Resolve symbolic values from module summaries to what they denote, across modules.

A resolved value (``Value``) is one of:

``("mod", name)``                  a module of the project
``("fn", qualname)``               a function or method of the project (unbound)
``("cls", qualname)``              a class of the project
``("ext", qualname)``              a symbol outside the project (canonical name when the catalog knows it)
``("inst", type, path)``           an instance; ``type`` is a project class qualname or a catalog type;
                                   ``path`` is the attribute path walked inside an SDK client
                                   (``client.chat.completions`` -> ``"chat.completions"``)
``("bound", qualname, type)``      a project method bound to an instance of ``type``
``("method", type, name, path)``   a method of a catalog type bound to an instance
``("alias", sv)``                  a type alias usable in annotations
"""

from __future__ import annotations

from .catalog import WRAPPERS, Catalog
from .summary import SV, ClassSummary, FunctionSummary, ModuleSummary

Value = tuple
_DEEP = frozenset({"anthropic.Anthropic", "openai.OpenAI"})
_MAX_DEPTH = 40


class Project:
    """All module summaries of one scan, indexed by module name."""

    def __init__(self, modules: list[ModuleSummary]):
        self.modules: dict[str, ModuleSummary] = {}
        for m in modules:
            self.modules.setdefault(m.name, m)
        self.functions: dict[str, FunctionSummary] = {}
        self.classes: dict[str, ClassSummary] = {}
        self.function_module: dict[str, ModuleSummary] = {}
        for m in modules:
            for q, f in m.functions.items():
                self.functions.setdefault(q, f)
                self.function_module.setdefault(q, m)
            for q, c in m.classes.items():
                self.classes.setdefault(q, c)

    def split_module(self, qualname: str) -> tuple[ModuleSummary | None, list[str]]:
        parts = qualname.split(".")
        for i in range(len(parts), 0, -1):
            mod = self.modules.get(".".join(parts[:i]))
            if mod is not None:
                return mod, parts[i:]
        return None, parts


class Resolver:
    def __init__(self, project: Project, catalog: Catalog):
        self.project = project
        self.catalog = catalog
        self._memo: dict[SV, Value | None] = {}
        self._active: set[SV] = set()

    # ----- entry points -------------------------------------------------------------------
    def resolve(self, sv: SV | None, depth: int = 0) -> Value | None:
        if sv is None or depth > _MAX_DEPTH:
            return None
        memo = self._memo
        if sv in memo:
            return memo[sv]
        if sv in self._active:  # a cycle through aliases / return types
            return None
        self._active.add(sv)
        try:
            value = self._resolve(sv, depth + 1)
        finally:
            self._active.discard(sv)
        memo[sv] = value
        return value

    def instance_of(self, type_value: Value | None) -> Value | None:
        """The instance that a type (as an annotation or a constructor) denotes."""
        if type_value is None:
            return None
        kind = type_value[0]
        if kind == "cls":
            return ("inst", type_value[1], "")
        if kind == "ext":
            q = type_value[1]
            canon = self.catalog.canonical(q)
            if canon in self.catalog.types:
                return ("inst", canon, "")
            family = self.catalog.family_of(q)
            if family:
                return ("inst", family, "")
            return ("inst", q, "")
        if kind == "alias":
            return self.instance_of(self.resolve(type_value[1]))
        if kind == "inst":
            return type_value
        return None

    # ----- the resolution rules -------------------------------------------------------------
    def _resolve(self, sv: SV, depth: int) -> Value | None:
        kind = sv[0]
        if kind == "g":
            return self._global(sv[1], depth)
        if kind == "fn":
            return ("fn", sv[1]) if sv[1] in self.project.functions else None
        if kind == "cls":
            return ("cls", sv[1]) if sv[1] in self.project.classes else None
        if kind == "attr":
            return self.attribute(self.resolve(sv[1], depth), sv[2], depth)
        if kind == "call":
            callee = self.resolve(sv[1], depth)
            if callee is not None and callee[0] == "ext" and callee[1] in WRAPPERS and len(sv) > 4:
                # get_db = contextmanager(get_session): the wrapper behaves like the function it wraps
                return self.resolve(sv[4], depth)
            return self.call_result(callee, sv[3], depth)
        if kind == "ann":
            return self.instance_of(self.resolve(sv[1], depth))
        if kind == "alias":
            return ("alias", sv[1])
        if kind == "self":
            return ("inst", sv[1], "")
        if kind == "dep":
            target = self.resolve(sv[1], depth)
            if target is None:
                return None
            if target[0] == "fn":
                return self.function_result(self.project.functions[target[1]], depth, prefer_yield=True)
            return self.call_result(target, None, depth)
        if kind == "enter":
            value = self.resolve(sv[1], depth)
            if value is None:
                return None
            if value[0] == "inst":
                info = self.catalog.types.get(value[1])
                if info is not None:
                    if info.enter == "self":
                        return value
                    return ("inst", info.enter, "") if info.enter else None
                enter = self._find_method(value[1], "__enter__")
                if enter is not None:
                    result = self.function_result(self.project.functions[enter], depth)
                    return result if result is not None else value
                return value
            if value[0] == "gen_cm":  # a @contextmanager function's call: binds what it yields
                return value[1]
            return None
        if kind == "div":
            value = self.resolve(sv[1], depth)
            if value is not None and value[0] == "inst" and value[1] == "pathlib.Path":
                return value
            return None
        if kind == "pipe":
            for part in (sv[1], sv[2]):
                value = self.resolve(part, depth)
                if value is not None and value[0] == "inst" and value[1] == "langchain.Runnable":
                    return value
                if value is not None and value[0] == "ext" and self.catalog.family_of(value[1]):
                    return ("inst", "langchain.Runnable", "")
            return None
        if kind == "item":
            value = self.resolve(sv[1], depth)
            if value is not None and value[0] == "inst":
                info = self.catalog.types.get(value[1])
                if info is not None and sv[2] in info.items:
                    return ("inst", info.items[sv[2]], "")
            return None
        if kind == "lit":  # a dict / list / set literal: a known type that is never a client
            return ("inst", f"builtins.{sv[1]}", "")
        return None

    def _global(self, qualname: str, depth: int) -> Value | None:
        if depth > _MAX_DEPTH:
            return None
        key = ("g*", qualname)
        if key in self._active:  # star imports that import each other
            return None
        self._active.add(key)
        try:
            return self._global_uncached(qualname, depth)
        finally:
            self._active.discard(key)

    def _global_uncached(self, qualname: str, depth: int) -> Value | None:
        mod, rest = self.project.split_module(qualname)
        if mod is None:
            return ("ext", self.catalog.canonical(qualname))
        if not rest:
            return ("mod", mod.name)
        name = rest[0]
        sv = mod.globals.get(name)
        if sv is None:
            if name in mod.globals:  # bound, but to something we cannot follow
                return None
            sub = self.project.modules.get(f"{mod.name}.{name}")
            if sub is not None:
                value: Value | None = ("mod", sub.name)
            else:
                value = None
                for star in mod.star_imports:
                    if star == mod.name:
                        continue
                    value = self._global(f"{star}.{name}", depth + 1)
                    if value is not None and (value[0] != "ext" or star not in self.project.modules):
                        break
                    value = None
                if value is None:
                    return None
        else:
            value = self.resolve(sv, depth)
        for attr in rest[1:]:
            value = self.attribute(value, attr, depth)
        return value

    def _find_method(self, class_q: str, name: str, seen: set[str] | None = None) -> str | None:
        cls = self.project.classes.get(class_q)
        if cls is None:
            return None
        q = cls.methods.get(name)
        if q is not None:
            return q
        seen = seen or set()
        seen.add(class_q)
        for base in self.bases(cls):
            if base[0] == "cls" and base[1] not in seen:
                found = self._find_method(base[1], name, seen)
                if found is not None:
                    return found
        return None

    def _find_attr(self, class_q: str, name: str, seen: set[str] | None = None) -> SV | None:
        cls = self.project.classes.get(class_q)
        if cls is None:
            return None
        if name in cls.attrs:
            return cls.attrs[name]
        seen = seen or set()
        seen.add(class_q)
        for base in self.bases(cls):
            if base[0] == "cls" and base[1] not in seen:
                found = self._find_attr(base[1], name, seen)
                if found is not None:
                    return found
        return None

    def bases(self, cls: ClassSummary) -> list[Value]:
        out = []
        for b in cls.bases:
            value = self.resolve(b)
            if value is not None:
                out.append(value)
        return out

    def external_bases(self, class_q: str, seen: set[str] | None = None) -> list[str]:
        """Catalog types a project class inherits from (``class Repo(Session)``)."""
        cls = self.project.classes.get(class_q)
        if cls is None:
            return []
        seen = seen or set()
        seen.add(class_q)
        out: list[str] = []
        for base in self.bases(cls):
            if base[0] == "ext":
                canon = self.catalog.canonical(base[1])
                if canon in self.catalog.types:
                    out.append(canon)
            elif base[0] == "cls" and base[1] not in seen:
                out += self.external_bases(base[1], seen)
        return out

    def attribute(self, value: Value | None, name: str, depth: int) -> Value | None:
        if value is None:
            return None
        kind = value[0]
        if kind == "mod":
            return self._global(f"{value[1]}.{name}", depth)
        if kind == "ext":
            # Class attributes of library types: SQLModel.metadata, Base.metadata
            info = self.catalog.types.get(self.catalog.canonical(value[1]))
            if info is not None and name in info.attrs:
                return ("inst", info.attrs[name], "")
            return ("ext", self.catalog.canonical(f"{value[1]}.{name}"))
        if kind == "cls":
            method = self._find_method(value[1], name)
            if method is not None:
                return ("fn", method)
            attr = self._find_attr(value[1], name)
            if attr is not None:
                return self.resolve(attr, depth)
            for ext in self.external_bases(value[1]):
                return self.attribute(("ext", ext), name, depth)
            return None
        if kind == "inst":
            type_name, path = value[1], value[2]
            if type_name in self.project.classes:
                method = self._find_method(type_name, name)
                if method is not None:
                    fn = self.project.functions[method]
                    if fn.kind == "property":
                        return self.function_result(fn, depth)
                    return ("bound", method, type_name)
                attr = self._find_attr(type_name, name)
                if attr is not None:
                    return self.resolve(attr, depth)
                for ext in self.external_bases(type_name):
                    return self.attribute(("inst", ext, ""), name, depth)
                return None
            info = self.catalog.types.get(type_name)
            if info is not None:
                if name in info.attrs:
                    return ("inst", info.attrs[name], "")
                if type_name in _DEEP and name not in info.pure:
                    # client.chat.completions.create: the attribute walk stays on the client
                    return ("inst", type_name, f"{path}.{name}" if path else name)
                if info.family:
                    return ("method", type_name, name, path)
            return ("method", type_name, name, path)
        if kind == "method":
            # attribute of a bound method of a deep client: client.messages.with_raw_response...
            return None
        return None

    def call_result(self, value: Value | None, arg0: str | None, depth: int) -> Value | None:
        if value is None:
            return None
        kind = value[0]
        if kind == "cls":
            return ("inst", value[1], "")
        if kind == "fn" or kind == "bound":
            fn = self.project.functions.get(value[1])
            if fn is None:
                return None
            if fn.is_generator and not fn.is_async:  # a @contextmanager-style helper: `with f() as x` binds its yield
                inner = self.function_result(fn, depth, prefer_yield=True)
                return ("gen_cm", inner) if inner is not None else None
            return self.function_result(fn, depth)
        if kind == "ext":
            q = value[1]
            factory = self.catalog.canonical(q)
            if factory in self.catalog.types:
                return ("inst", factory, "")
            made = _factory(self.catalog, q)
            if made:
                return ("inst", made, "")
            family = self.catalog.family_of(q)
            if family:
                return ("inst", family, "")
            return None
        if kind == "inst":
            info = self.catalog.types.get(value[1])
            if info is not None and info.call_returns:
                return ("inst", info.call_returns, "")
            if value[1] in self.project.classes:
                call = self._find_method(value[1], "__call__")
                if call is not None:
                    return self.function_result(self.project.functions[call], depth)
            return None
        if kind == "method":
            type_name, name = value[1], value[2]
            info = self.catalog.types.get(type_name)
            if info is None:
                return None
            if info.family:
                return ("inst", type_name, "")
            returned = info.returns.get(name)
            if returned == "SELF":
                return ("inst", type_name, "")
            if returned:
                return ("inst", returned, "")
            if info.fluent:
                return ("inst", type_name, "")
            return None
        return None

    def function_result(self, fn: FunctionSummary, depth: int, prefer_yield: bool = False) -> Value | None:
        if prefer_yield and fn.is_generator:
            return self.resolve(fn.yields, depth)
        if fn.is_generator and not prefer_yield:
            return None
        return self.resolve(fn.returns, depth)


def _factory(catalog: Catalog, qualname: str) -> str:
    from .catalog import FACTORIES

    made = FACTORIES.get(qualname)
    if made:
        return made
    # Class methods of known types: redis.Redis.from_url, pathlib.Path.home
    owner, _, method = qualname.rpartition(".")
    canon = catalog.canonical(owner)
    info = catalog.types.get(canon)
    if info is not None and method in info.returns:
        return info.returns[method]
    return ""

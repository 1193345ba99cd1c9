"""Findings: blocking calls that run on the event loop, with the evidence that proves them.

Input: module summaries (``summary.py``) and the catalog. Steps:

1. classify every call site: a catalog API (blocking), an edge to a project function, or nothing;
2. solve which *sync* project functions block, breadth-first from the direct blocking calls, so
   each one carries its shortest chain to a catalog API;
3. report call sites inside ``async def`` bodies that block directly or call a blocking sync
   function, merging chained calls (``session.exec(q).all()``) into one finding.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from .catalog import CODES, DIRECT_ONLY, Api, Catalog, Match
from .incremental import Encoded, decode_edges, decode_sites, encode_sites
from .resolve import Project, Resolver
from .summary import SV, CallSite, FunctionSummary, ModuleSummary

# Receivers we cannot type, but whose name strongly suggests a blocking client: shown only with
# --include-uncertain, at low confidence.
_UNCERTAIN_HINTS: tuple[tuple[re.Pattern[str], str, frozenset[str]], ...] = (
    (re.compile(r"(^|[._])(session|db|db_session|dbsession)$"), "AM200",
     frozenset({"exec", "execute", "commit", "refresh", "flush", "scalar", "scalars", "get", "delete",
                "merge", "rollback", "query"})),
    (re.compile(r"(^|[._])(cursor|cur|conn|connection)$"), "AM210",
     frozenset({"execute", "executemany", "fetchone", "fetchall", "fetchmany", "commit"})),
    (re.compile(r"(^|[._])(redis|redis_client|cache|r)$"), "AM230",
     frozenset({"get", "set", "setex", "delete", "hget", "hset", "lpush", "rpush", "expire", "incr", "publish"})),
    (re.compile(r"(^|[._])(s3|s3_client|boto_client|dynamodb|sqs)$"), "AM220",
     frozenset({"put_object", "get_object", "upload_file", "download_file", "delete_object", "list_objects_v2",
                "put_item", "get_item", "query", "scan", "send_message"})),
)


@dataclass(frozen=True)
class Hop:
    function: str
    path: str
    line: int
    call: str


@dataclass
class Finding:
    path: str
    line: int
    col: int  # 0-based characters
    end_line: int
    end_col: int
    code: str
    call: str  # qualified name of the blocking API
    function: str  # enclosing async function, qualified
    message: str
    via: list[Hop] = field(default_factory=list)
    confidence: str = "high"
    evidence: list[str] = field(default_factory=list)
    linter_code: str = ""
    native: str = ""
    chained: list[str] = field(default_factory=list)  # result methods merged into this finding
    kind: str = "direct"  # direct | interprocedural | uncertain

    @property
    def category(self) -> str:
        return CODES[self.code].category

    @property
    def fixes(self) -> list[str]:
        return ["offload", "native"] if CODES[self.code].native or self.native else ["offload"]


@dataclass
class Options:
    include_uncertain: bool = False
    # module-name glob -> codes ignored there (from per-module configuration)
    ignore_codes: dict[str, frozenset[str]] = field(default_factory=dict)


@dataclass
class _Site:
    site: CallSite
    match: Match | None = None  # a catalog API
    target: str | None = None  # a project function it calls
    evidence: str = ""
    uncertain: str = ""  # code guessed by the name heuristic
    opens_session: bool = False  # constructs a SQLAlchemy Session (takes a pooled connection when used)
    # for offloaded sites (to_thread(f, ...)): what the call would be on the loop; the native phase uses it
    offloaded_match: Match | None = None
    offloaded_target: str | None = None


def _on_loop(site: CallSite) -> CallSite:
    from dataclasses import replace

    return replace(site, offloaded=False)


@dataclass(frozen=True)
class ProjectFacts:
    """What per-file hazard checks need to know about the whole project."""

    relationships: frozenset[str] = frozenset()  # lazy relationship attribute names of ORM models
    expire_on_commit_false: bool = False  # some session factory sets expire_on_commit=False
    check_same_thread_false: bool = False


_SESSION_TYPES = frozenset({"sqlalchemy.orm.Session", "sqlalchemy.orm.scoped_session"})
_SESSION_FACTORIES = frozenset({"sqlalchemy.orm.sessionmaker", "sqlalchemy.orm.scoped_session"})


def _suppressed(module: ModuleSummary, site: CallSite, code: str, linter: str, direct: bool) -> bool:
    for line in {site.line, site.end_line}:
        entry = module.suppress.get(line)
        if entry is None:
            continue
        kind, codes = entry
        if kind in ("am", "both") and ("*" in codes or code in codes):
            return True
        if kind in ("noqa", "both") and direct and linter and ("*" in codes or linter in codes
                                                                or _linter_family(linter) & codes):
            return True
    return False


def _linter_family(linter: str) -> frozenset[str]:
    """Codes a project may have used for the same call: ruff and flake8-async share ASYNCxxx."""
    return frozenset(CODES_BY_LINTER.get(linter, ()))


CODES_BY_LINTER: dict[str, tuple[str, ...]] = {}
for _c in CODES.values():
    for _l in _c.linter_codes:
        CODES_BY_LINTER.setdefault(_l, _c.linter_codes)


class Analysis:
    def __init__(self, modules: list[ModuleSummary], catalog: Catalog, options: Options | None = None,
                 reuse: Mapping[str, Encoded] | None = None):
        """``reuse``: classifications from an earlier run (function qualname -> ``encode_sites`` form),
        valid only when no module's interface changed since (``incremental``)."""
        self.project = Project(modules)
        self.reuse = reuse or {}
        self._reused: set[str] = set()
        self.catalog = catalog
        self.resolver = Resolver(self.project, catalog)
        self.options = options or Options()
        self.sites: dict[str, list[_Site]] = {}
        # sync function -> (code, chain of hops to the catalog API, api target, linter code, native)
        self.blocking: dict[str, tuple[str, list[Hop], str, str, str]] = {}
        self._async_edges: dict[str, list[tuple[Match | None, str | None]]] = {}  # filled by ``solve``
        # findings silenced by a suppression comment or per-module configuration (for the manifest)
        self.suppressed: list[Finding] = []
        self.hazards: list[Finding] = []
        self.property_names = frozenset(f.name for f in self.project.functions.values() if f.kind == "property")

    # ----- step 1: classify call sites ----------------------------------------------------------
    def classify(self, fn: FunctionSummary) -> list[_Site]:
        cached = self.sites.get(fn.qualname)
        if cached is not None:
            return cached
        encoded = self.reuse.get(fn.qualname)
        if encoded is not None:
            reused = decode_sites(fn, encoded, _Site)
            if reused is not None:
                self.sites[fn.qualname] = reused
                self._reused.add(fn.qualname)
                return reused
        out: list[_Site] = []
        for site in fn.calls:
            try:
                out.append(self._classify_site(site))
            except RecursionError:  # pathological alias chains: leave the site unresolved, never crash
                out.append(_Site(site))
        if self.property_names and fn.attr_loads:
            out += self._property_reads(fn)
        self.sites[fn.qualname] = out
        return out

    def _property_reads(self, fn: FunctionSummary) -> list[_Site]:
        """``store.total`` runs the ``total`` property: an edge like a call when it is a project property."""
        out = []
        for name, base, line, col, end_line, end_col in fn.attr_loads:
            if name not in self.property_names:
                continue
            value = self.resolver.resolve(base)
            if value is None or value[0] != "inst" or value[1] not in self.project.classes:
                continue
            method = self.resolver._find_method(value[1], name)
            if method is None or self.project.functions[method].kind != "property":
                continue
            site = CallSite(("attr", base, name), line, col, end_line, end_col, False, 0, (), None,
                            name, -1)
            out.append(_Site(site, target=method))
        return out

    def _classify_site(self, site: CallSite) -> _Site:
        result = _Site(site)
        if site.offloaded:  # runs in a worker thread already: classified for the native phase only
            offloaded = self._classify_site(_on_loop(site))
            result.offloaded_match, result.offloaded_target = offloaded.match, offloaded.target
            return result
        if site.callee is None:
            self._uncertain(result)
            return result
        value = self.resolver.resolve(site.callee)
        if value is None:
            self._uncertain(result)
            return result
        kind = value[0]
        if (kind == "ext" and value[1] in _SESSION_TYPES) or (kind == "inst" and value[1] in _SESSION_FACTORIES):
            result.opens_session = True
        if kind == "ext":
            if site.awaited:
                return result
            match = self.catalog.lookup_function(value[1])
            if match is not None and self._applies(match.api, site):
                result.match = match
                result.evidence = f"`{site.text or value[1]}` resolves to `{value[1]}`"
        elif kind == "method":
            if site.awaited:
                return result
            type_name, name, path = value[1], value[2], value[3]
            match = self.catalog.lookup_method(type_name, name)
            if match is not None and self._applies(match.api, site):
                target = f"{type_name}.{path}.{name}" if path else match.target
                result.match = Match(match.api, target)
                result.evidence = self._receiver_evidence(site.callee, type_name)
        elif kind in ("fn", "bound"):
            if self.catalog.is_safe(value[1]):
                return result
            # A project function the configuration declares blocking is a catalog API of its own.
            match = self.catalog.lookup_function(value[1])
            if match is not None and not site.awaited:
                result.match = match
                result.evidence = f"`{site.text or value[1]}` resolves to `{value[1]}` (configured blocking)"
            else:
                result.target = value[1]
        elif kind == "cls":
            init = self.resolver._find_method(value[1], "__init__")
            if init is not None:
                result.target = init
            else:
                for ext in self.resolver.external_bases(value[1]):
                    match = self.catalog.lookup_function(ext)
                    if match is not None:
                        result.match = match
                        break
        elif kind == "inst" and value[1] in self.project.classes:
            call = self.resolver._find_method(value[1], "__call__")
            if call is not None:
                result.target = call
        elif kind == "inst" and value[2] and not site.awaited:
            # an SDK client walk: claude.messages.create(...) -> ("inst", "anthropic.Anthropic", "messages.create")
            owner, _, method = value[2].rpartition(".")
            match = self.catalog.lookup_method(value[1], method)
            if match is not None and self._applies(match.api, site):
                result.match = Match(match.api, f"{value[1]}.{value[2]}")
                result.evidence = self._receiver_evidence(site.callee, value[1])
        return result

    def _applies(self, api: Api, site: CallSite) -> bool:
        if api.unless_kw and any(k in api.unless_kw for k in site.kwnames):
            return False
        if api.unless_args and site.nargs >= api.unless_args:
            return False
        return True

    def _uncertain(self, result: _Site) -> None:
        site = result.site
        if site.awaited or not site.text or "." not in site.text:
            return
        receiver, _, method = site.text.rpartition(".")
        for pattern, code, methods in _UNCERTAIN_HINTS:
            if method in methods and pattern.search(receiver):
                result.uncertain = code
                result.evidence = f"receiver `{receiver}` is untyped; its name suggests a {CODES[code].category} client"
                return

    def _receiver_evidence(self, callee: SV, type_name: str) -> str:
        receiver = callee[1] if callee and callee[0] == "attr" else None
        how = _describe(receiver) if receiver is not None else ""
        return f"receiver is `{type_name}`" + (f" ({how})" if how else "")

    def edges(self, fn: FunctionSummary) -> list[tuple[CallSite, Match | None, str | None, bool]]:
        """(site, catalog match, project target, opens a session) of the sites that are something: what
        the call-graph passes need, read straight from ``reuse`` without building ``_Site`` objects."""
        if fn.qualname not in self.sites:
            encoded = self.reuse.get(fn.qualname)
            edges = decode_edges(fn, encoded) if encoded is not None else None
            if edges is not None:
                self._reused.add(fn.qualname)
                return edges
        return [(s.site, s.match, s.target, s.opens_session) for s in self.classify(fn)
                if s.match is not None or s.target is not None or s.opens_session]

    @property
    def reused(self) -> int:
        """Functions whose classification came from ``reuse``."""
        return len(self._reused)

    def encoded_sites(self, module: ModuleSummary) -> dict[str, Encoded]:
        """The classification of ``module``'s functions, for the next run's ``reuse``."""
        return {q: encode_sites(fn, self.classify(fn)) for q, fn in module.functions.items()
                if self.project.functions.get(q) is fn}

    # ----- step 2: which sync functions block -----------------------------------------------------
    def solve(self) -> None:
        callers: dict[str, list[tuple[str, CallSite]]] = {}
        queue: deque[str] = deque()
        for q, fn in self.project.functions.items():
            module = self.project.function_module[q]
            edges = self.edges(fn)
            for site, _, target, _ in edges:
                if target is not None:
                    callers.setdefault(target, []).append((q, site))
            if fn.is_async:
                # what can make a finding in it (read back by ``findings``): direct matches, unawaited calls
                self._async_edges[q] = [(match, target) for site, match, target, _ in edges
                                        if match is not None or (target is not None and not site.awaited)]
                continue
            for site, match, _, _ in edges:
                if match is None or match.api.code in DIRECT_ONLY:
                    continue
                api = match.api
                if _suppressed(module, site, api.code, api.linter, direct=True):
                    continue
                hop = Hop(q, module.path, site.line, match.target)
                self.blocking[q] = (api.code, [hop], match.target, api.linter, api.native)
                queue.append(q)
                break
        while queue:
            callee = queue.popleft()
            code, chain, target, linter, native = self.blocking[callee]
            for caller, site in callers.get(callee, ()):
                fn = self.project.functions[caller]
                if fn.is_async or caller in self.blocking or site.awaited:
                    continue
                module = self.project.function_module[caller]
                if _suppressed(module, site, code, linter, direct=False):
                    continue
                hop = Hop(caller, module.path, site.line, callee)
                self.blocking[caller] = (code, [hop] + chain, target, linter, native)
                queue.append(caller)

    # ----- step 3: findings in async functions ------------------------------------------------------
    def findings(self) -> list[Finding]:
        self.solve()
        out: list[Finding] = []
        uncertain = self.options.include_uncertain  # uncertain sites are not edges: every function is read
        for q, fn in self.project.functions.items():
            # an async function that calls nothing blocking (no match, no unawaited call of a blocking
            # function) has no finding: its sites need not be decoded
            if fn.is_async and (uncertain or any(match is not None or target in self.blocking
                                                 for match, target in self._async_edges.get(q, ()))):
                out += self._findings_in(fn)
        out.sort(key=lambda f: (f.path, f.line, f.col, f.code))
        self.hazards = sorted(self._pool_hazards(), key=lambda f: (f.path, f.line, f.col))
        return out

    # ----- hazards the offload phase must report ----------------------------------------------------
    def facts(self) -> ProjectFacts:
        modules = self.project.modules.values()
        return ProjectFacts(
            frozenset(name for c in self.project.classes.values() for name in c.relationships),
            any("expire_on_commit_false" in m.flags for m in modules),
            any("check_same_thread_false" in m.flags for m in modules))

    def _session_openers(self) -> dict[str, list[str]]:
        """Sync functions that open a Session themselves or through sync callees (with the chain)."""
        opens: dict[str, list[str]] = {}
        callers: dict[str, list[str]] = {}
        queue: deque[str] = deque()
        for q, fn in self.project.functions.items():
            if fn.is_async:
                continue
            for _, _, target, opens_session in self.edges(fn):
                if target is not None:
                    callers.setdefault(target, []).append(q)
                if opens_session and q not in opens:
                    opens[q] = [q]
                    queue.append(q)
        while queue:
            callee = queue.popleft()
            for caller in callers.get(callee, ()):
                if caller not in opens and not self.project.functions[caller].is_async:
                    opens[caller] = [caller] + opens[callee]
                    queue.append(caller)
        return opens

    def _pool_hazards(self) -> list[Finding]:
        """AM303: a route holding a Session from its dependency awaits a thread that opens another."""
        opens = None
        out: list[Finding] = []
        for q, fn in self.project.functions.items():
            if not fn.is_async:
                continue
            held = [name for name, sv in fn.params if sv is not None and (v := self.resolver.resolve(sv)) is not None
                    and v[0] == "inst" and v[1] in _SESSION_TYPES]
            if not held:
                continue
            if opens is None:
                opens = self._session_openers()
            module = self.project.function_module[q]
            for s in self.classify(fn):
                if s.target is None or s.target not in opens or s.site.awaited:
                    continue
                chain = " -> ".join(_short(x) for x in opens[s.target])
                f = Finding(module.path, s.site.line, s.site.col, s.site.end_line, s.site.end_col, "AM303",
                            s.target, q, "", kind="hazard",
                            evidence=[f"parameter `{held[0]}` holds a Session while {chain} opens another"])
                f.message = (f"{CODES['AM303'].title}: `{held[0]}` is held while {chain} opens a second session; "
                             "each request needs 2 pooled connections (default pool 5+10: >7 concurrent "
                             "requests exhaust it) - pass the session down or size the pool for 2x concurrency")
                out.append(f)
        return out

    def _findings_in(self, fn: FunctionSummary) -> list[Finding]:
        module = self.project.function_module[fn.qualname]
        sites = self.classify(fn)
        produced: dict[int, Finding] = {}
        for index, s in enumerate(sites):
            finding = self._finding_for(fn, module, s)
            if finding is None:
                continue
            # session.exec(q).all(), db.query(X).filter(...).first(): a result method joins the finding of
            # the call it reads from, also through non-blocking steps in between.
            receiver = s.site.receiver_site
            while receiver >= 0 and receiver not in produced and sites[receiver].match is None \
                    and sites[receiver].target is None:
                receiver = sites[receiver].site.receiver_site
            if receiver >= 0 and receiver in produced and s.match is not None:
                inner = produced.pop(receiver)
                inner.end_line, inner.end_col = s.site.end_line, s.site.end_col
                inner.chained.append(s.match.target.rpartition(".")[2])
                inner.message = _message(inner)
                produced[index] = inner
                continue
            produced[index] = finding
        result = []
        for f in produced.values():
            if self._ignored_by_config(module, f.code):
                self.suppressed.append(f)
                continue
            result.append(f)
        return result

    def _ignored_by_config(self, module: ModuleSummary, code: str) -> bool:
        import fnmatch

        for pattern, codes in self.options.ignore_codes.items():
            if (code in codes or "*" in codes or CODES[code].category in codes) and (
                    fnmatch.fnmatchcase(module.name, pattern) or fnmatch.fnmatchcase(module.path, pattern)):
                return True
        return False

    def _finding_for(self, fn: FunctionSummary, module: ModuleSummary, s: _Site) -> Finding | None:
        site = s.site
        if s.match is not None:
            api = s.match.api
            f = Finding(module.path, site.line, site.col, site.end_line, site.end_col, api.code, s.match.target,
                        fn.qualname, "", evidence=[s.evidence] if s.evidence else [], linter_code=api.linter,
                        native=api.native)
            f.message = _message(f)
            if _suppressed(module, site, api.code, api.linter, direct=True):
                self.suppressed.append(f)
                return None
            return f
        if s.target is not None and not site.awaited:
            blocked = self.blocking.get(s.target)
            if blocked is None:
                return None
            code, chain, target, linter, native = blocked
            f = Finding(module.path, site.line, site.col, site.end_line, site.end_col, code, target, fn.qualname,
                        "", via=list(chain), linter_code=linter, native=native, kind="interprocedural",
                        evidence=[f"`{site.text or s.target}` resolves to `{s.target}`, a sync function that blocks"])
            f.message = _message(f)
            if _suppressed(module, site, code, linter, direct=False):
                self.suppressed.append(f)
                return None
            return f
        if s.uncertain and self.options.include_uncertain:
            code = s.uncertain
            if _suppressed(module, site, code, "", direct=True):
                return None
            f = Finding(module.path, site.line, site.col, site.end_line, site.end_col, code, site.text,
                        fn.qualname, "", confidence="low", evidence=[s.evidence], kind="uncertain")
            f.message = _message(f)
            return f
        return None


def _message(f: Finding) -> str:
    title = CODES[f.code].title
    call = f.call + "".join(f"().{m}" for m in f.chained)
    if f.via:
        chain = " -> ".join([f.function.rpartition(".")[2]] + [_short(h.function) for h in f.via] + [f.call])
        return f"{title}: `{call}` through {chain}"
    suffix = f"; use {f.native}" if f.native else ""
    return f"{title}: `{call}`{suffix}"


def _short(qualname: str) -> str:
    parts = qualname.replace(".<locals>", "").split(".")
    return ".".join(parts[-2:]) if len(parts) > 1 and parts[-2][:1].isupper() else parts[-1]


def _describe(sv: SV | None, depth: int = 0) -> str:
    """A short human explanation of how a receiver's type was inferred."""
    if sv is None or depth > 3:
        return ""
    kind = sv[0]
    if kind == "ann":
        return f"annotated `{_text(sv[1])}`"
    if kind == "dep":
        return f"`Depends({_text(sv[1])})`"
    if kind == "call":
        return f"returned by `{_text(sv[1])}(...)`"
    if kind == "enter":
        inner = _describe(sv[1], depth + 1)
        return "bound by `with ... as`" + (f", {inner}" if inner else "")
    if kind == "self":
        return "self"
    if kind == "g":
        return f"module-level `{sv[1]}`"
    if kind == "attr":
        return f"attribute `{_text(sv)}`"
    if kind == "div":
        return "a `Path` join"
    return ""


def _text(sv: SV | None) -> str:
    if sv is None:
        return "?"
    kind = sv[0]
    if kind in ("g", "fn", "cls"):
        return sv[1].rpartition(".")[2] if kind != "g" else sv[1]
    if kind == "attr":
        return f"{_text(sv[1])}.{sv[2]}"
    if kind == "self":
        return "self"
    if kind == "call":
        return f"{_text(sv[1])}()"
    if kind in ("ann", "dep", "enter", "div"):
        return _text(sv[1])
    return "?"


def analyze(modules: list[ModuleSummary], catalog: Catalog | None = None,
            options: Options | None = None) -> list[Finding]:
    return Analysis(modules, catalog or Catalog(), options).findings()

"""``asgi-migrate verify``: run the project's own command with runtime blocking detection and loop lag.

Static analysis cannot see lazy loads, library internals or dynamic calls; this phase watches what
really runs on the loop. Flow: resolve the project's modules from a static scan (or ``--modules``),
write a temporary folder holding a generated ``sitecustomize.py``, the probe and the pytest plugin,
run COMMAND with that folder first on ``PYTHONPATH`` (plus ``PYTEST_PLUGINS`` and one variable
naming a JSON configuration file), so no user file is edited; each Python process of the command
writes its results as JSON at exit; merge them, mark every runtime record as known to the scan (a
finding or a chain hop at one of its project frames) or missed, print the report, record the
outcome per module in the manifest when the project has one, and return the exit code.

Exit codes: 0 clean, 1 blocking calls on the loop, lag over the threshold or the command failing,
2 errors (no command, command not found, the probe never ran, an invalid allowlist or manifest).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 in CI
    import tomli as tomllib

from rich.console import Console
from rich.table import Table

from . import verify_sitecustomize

EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 2
DEFAULT_LAG_THRESHOLD_MS = 100.0  # asyncio's own slow-callback threshold (loop.slow_callback_duration)
MONITOR_INTERVAL_MS = 2.0  # a stall of S ms measures between S - 2 and S ms
MAX_STALLS_REPORTED = 50  # in the JSON (the longest); the text report shows the first STALLS_SHOWN
STALLS_SHOWN = 8
LIFESPAN_STALLS_SHOWN = 3  # lifespan stalls repeat per TestClient: the first few say what ran
PROBE_MODULE = "_asgi_migrate_verify"
PLUGIN_MODULE = "_asgi_migrate_verify_plugin"
CONFIG_KEY = "verify-allow"

# One-time or test-only library internals: a blocking call with one of these frames between the loop
# and the blocked function is counted under "allowed", not reported. FILE is a path suffix or a glob,
# FUNC a name or glob; the same form as ``--allow`` and ``[tool.asgi-migrate] verify-allow``.
DEFAULT_ALLOW: tuple[tuple[str, str], ...] = (
    ("<frozen importlib._bootstrap>:_find_and_load",
     "a module's first import (a lazy import in a handler) reads its files once per process"),
    ("importlib/metadata/__init__.py:*",
     "package metadata lookups (version(), entry points) read dist-info once; libraries cache them"),
    ("linecache.py:*", "source lines read to format a traceback, on the error path, once per file"),
    ("<frozen linecache>:*", "the same, where linecache is frozen (Python 3.13+)"),
    ("mimetypes.py:init", "the MIME table is read once, on the first guess_type (FileResponse)"),
    ("zoneinfo/_common.py:*", "a time zone file is read once per key, then cached by ZoneInfo"),
    ("*/_pytest/*:*", "pytest's own machinery (assertion rewriting, output capture) is not the app"),
    ("starlette/testclient.py:*", "TestClient's in-memory transport is test scaffolding, absent in production"),
    ("anyio/from_thread.py:*", "the blocking portal that runs TestClient's loop thread is test scaffolding"),
)


class VerifyError(Exception):
    """A usage or input problem: one line, exit code 2."""


# ----- configuration -----------------------------------------------------------------------------------

def parse_allow(values: Iterable[str], where: str = "--allow") -> list[str]:
    """Validate ``FILE:FUNC`` entries (FUNC may be ``*``; a bare FILE means every function in it)."""
    out = []
    for value in values:
        for item in value.split(","):
            item = item.strip()
            if not item:
                continue
            file, sep, _ = item.rpartition(":")
            if sep and not file:
                raise VerifyError(f"{where}: {item!r} has no file part; expected FILE:FUNC")
            out.append(item if sep else f"{item}:*")
    return out


def config_allow(root: Path) -> list[str]:
    """``[tool.asgi-migrate] verify-allow = [...]`` from the project's pyproject.toml, read here with
    tomllib (the shared configuration loader does not know the key yet)."""
    pyproject = root / "pyproject.toml"
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []  # missing or broken: the configuration loader reports a broken file
    table = data.get("tool", {}).get("asgi-migrate", {})
    value = table.get(CONFIG_KEY, []) if isinstance(table, dict) else []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise VerifyError(f"{pyproject}: [tool.asgi-migrate].{CONFIG_KEY} must be a list of \"FILE:FUNC\" strings")
    return parse_allow(value, f"{pyproject}: [tool.asgi-migrate].{CONFIG_KEY}")


@dataclass
class Scope:
    """The project's modules the probe watches: exact files and package folders."""

    files: list[str] = field(default_factory=list)  # absolute paths
    prefixes: list[str] = field(default_factory=list)  # absolute folders
    names: list[str] = field(default_factory=list)  # --modules names the child locates itself
    rels: set[str] = field(default_factory=set)  # project-relative paths covered (for the manifest)


def resolve_scope(root: Path, scanned_files: Sequence[Any], modules: Sequence[str]) -> Scope:
    """Every scanned file by default; with ``--modules``, the scanned files of those packages, and names
    the scan does not cover are located by the child (installed packages, other layouts)."""
    scope = Scope()
    if not modules:
        scope.files = [str(f.path.resolve()) for f in scanned_files]
        scope.rels = {f.rel for f in scanned_files}
        return scope
    for name in modules:
        hits = [f for f in scanned_files if f.module == name or f.module.startswith(name + ".")]
        if hits:
            scope.files += [str(f.path.resolve()) for f in hits]
            scope.rels |= {f.rel for f in hits}
        else:
            scope.names.append(name)
    return scope


def split_modules(values: Iterable[str] | None) -> list[str]:
    out = []
    for value in values or []:
        for item in value.split(","):
            item = item.strip()
            if item:
                if not all(part.isidentifier() for part in item.split(".")):
                    raise VerifyError(f"--modules: {item!r} is not a module name")
                out.append(item)
    return out


# ----- running the command ------------------------------------------------------------------------------

SITECUSTOMIZE = f'''\
"""Generated by `asgi-migrate verify` for one run (a temporary folder, deleted afterwards)."""
import {PROBE_MODULE}

{PROBE_MODULE}.chain_sitecustomize(__file__)
{PROBE_MODULE}.install_from_env()
'''


def prepare(workdir: Path, root: Path, scope: Scope, allow: list[str], threshold_ms: float,
            base_env: dict[str, str] | None = None) -> dict[str, str]:
    """Write the injected folder and return the command's environment."""
    site = workdir / "site"
    results = workdir / "results"
    site.mkdir()
    results.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    (site / f"{PROBE_MODULE}.py").write_text(Path(verify_sitecustomize.__file__).read_text("utf-8"), "utf-8")
    # read, not imported: the plugin imports pytest, which the parent need not have
    plugin = Path(__file__).with_name("verify_plugin.py")
    (site / f"{PLUGIN_MODULE}.py").write_text(plugin.read_text("utf-8"), "utf-8")
    vendor = _vendor(workdir / "vendor")
    config = {"root": str(root.resolve()), "files": scope.files, "prefixes": scope.prefixes,
              "modules": scope.names, "allow": allow, "threshold_ms": threshold_ms,
              "interval_ms": MONITOR_INTERVAL_MS, "results_dir": str(results), "vendor": vendor}
    (workdir / "config.json").write_text(json.dumps(config, indent=1), encoding="utf-8")
    env = dict(os.environ if base_env is None else base_env)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(site), env.get("PYTHONPATH", "")) if p)
    env["PYTEST_PLUGINS"] = ",".join(p for p in (env.get("PYTEST_PLUGINS", ""), PLUGIN_MODULE) if p)
    env[verify_sitecustomize.ENV] = str(workdir / "config.json")
    return env


def _vendor(folder: Path) -> str:
    """Links to this interpreter's blockbuster (and forbiddenfruit): the child appends the folder to
    sys.path only when it cannot import blockbuster itself."""
    folder.mkdir()
    for name in ("blockbuster", "forbiddenfruit"):
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.origin:
            continue
        source = Path(spec.origin).parent if spec.submodule_search_locations else Path(spec.origin)
        try:
            (folder / source.name).symlink_to(source, target_is_directory=source.is_dir())
        except OSError:
            import shutil

            (shutil.copytree if source.is_dir() else shutil.copy2)(source, folder / source.name)
    return str(folder)


def run_command(command: Sequence[str], env: dict[str, str], cwd: Path | None = None) -> int:
    try:
        return subprocess.run(list(command), env=env, cwd=cwd, check=False).returncode
    except FileNotFoundError:
        raise VerifyError(f"{command[0]}: command not found") from None
    except PermissionError:
        raise VerifyError(f"{command[0]}: permission denied") from None


# ----- results --------------------------------------------------------------------------------------------

@dataclass
class Frame:
    path: str
    line: int
    function: str
    is_async: bool

    def __str__(self) -> str:
        return f"{self.path}:{self.line} ({self.function})"


@dataclass
class RuntimeCall:
    """One blocking call seen on a running loop, aggregated over the run by (function, project frames)."""

    func: str  # the blocked function, blockbuster's name (``sqlite3.Cursor.execute``)
    frames: list[Frame]  # project frames, innermost first
    callee: str  # what the innermost project frame called (``sqlalchemy.orm.Session.commit``)
    count: int = 0
    total_ms: float = 0.0
    max_ms: float = 0.0
    tests: dict[str, int] = field(default_factory=dict)
    scan: str = "missed"  # known | suppressed | missed
    codes: list[str] = field(default_factory=list)  # the static findings' codes, when known

    @property
    def frame(self) -> Frame:
        """The project frame that led to the call (the innermost)."""
        return self.frames[0]

    @property
    def site(self) -> Frame:
        """Where the fix goes: the innermost ``async def`` frame of the project (else the innermost)."""
        return next((f for f in self.frames if f.is_async), self.frames[0])


@dataclass
class Lag:
    samples: int = 0
    max_ms: float = 0.0
    stalls: int = 0
    hist: dict[int, int] = field(default_factory=dict)  # tenths of a ms -> samples
    wall_max_ms: float = 0.0  # the raw lateness, waiting for a CPU included
    cpu_wait_ms: float = 0.0  # time the loop thread was runnable but not scheduled, subtracted

    def add(self, data: dict[str, Any]) -> None:
        self.samples += int(data.get("samples", 0))
        self.max_ms = max(self.max_ms, float(data.get("max_ms", 0.0)))
        self.stalls += int(data.get("stalls", 0))
        self.wall_max_ms = max(self.wall_max_ms, float(data.get("wall_max_ms", data.get("max_ms", 0.0))))
        self.cpu_wait_ms += float(data.get("cpu_wait_ms", 0.0))
        for k, n in (data.get("hist") or {}).items():
            self.hist[int(k)] = self.hist.get(int(k), 0) + int(n)

    def percentile(self, q: float) -> float:
        if not self.samples:
            return 0.0
        need = q * sum(self.hist.values())
        seen = 0
        for key in sorted(self.hist):
            seen += self.hist[key]
            if seen >= need:
                return key / 10.0
        return self.max_ms

    def as_dict(self) -> dict[str, Any]:
        return {"samples": self.samples, "max_ms": round(self.max_ms, 3), "p99_ms": self.percentile(0.99),
                "stalls": self.stalls, "wall_max_ms": round(self.wall_max_ms, 3),
                "cpu_wait_ms": round(self.cpu_wait_ms, 3)}


@dataclass
class Results:
    processes: int = 0
    loops: int = 0
    calls: list[RuntimeCall] = field(default_factory=list)
    allowed: dict[str, int] = field(default_factory=dict)
    lag: Lag = field(default_factory=Lag)
    per_test: dict[str, Lag] = field(default_factory=dict)
    stalls: list[dict[str, Any]] = field(default_factory=list)  # the longest, each with what ran (see the probe)
    errors: list[str] = field(default_factory=list)
    interval_ms: float = MONITOR_INTERVAL_MS
    cpu_wait_measured: bool = False  # every process subtracted the time its loop threads waited for a CPU
    gc_full: dict[str, float] = field(default_factory=lambda: {"count": 0, "max_ms": 0.0})
    # lag while an ASGI lifespan startup/shutdown ran (no request is served then): apart from ``lag``
    lifespan: Lag = field(default_factory=Lag)
    lifespan_stalls: list[dict[str, Any]] = field(default_factory=list)
    lifespan_phases: dict[str, int] = field(default_factory=dict)

    def counted_max_ms(self, include_lifespan: bool = False) -> float:
        """The lag the threshold applies to: serving lag, and the lifespan's too when asked."""
        return max(self.lag.max_ms, self.lifespan.max_ms) if include_lifespan else self.lag.max_ms


def load_results(folder: Path) -> Results:
    """Merge every process's JSON file (a pytest run, its xdist workers, a server started by a script)."""
    out = Results()
    by_key: dict[tuple, RuntimeCall] = {}
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            out.errors.append(f"{path.name}: unreadable results: {exc}")
            continue
        out.processes += 1
        out.loops += int(data.get("loops", 0))
        out.interval_ms = float(data.get("interval_ms", out.interval_ms))
        gc_full = data.get("gc_full") or {}
        out.gc_full = {"count": out.gc_full["count"] + int(gc_full.get("count", 0)),
                       "max_ms": max(out.gc_full["max_ms"], float(gc_full.get("max_ms", 0.0)))}
        measured = bool(data.get("cpu_wait_measured")) or not data.get("loops")
        out.cpu_wait_measured = measured if out.processes == 1 else out.cpu_wait_measured and measured
        for c in data.get("calls", []):
            frames = [Frame(str(p), int(n), str(fn), bool(a)) for p, n, fn, a in c["frames"]]
            key = (c["func"], tuple((f.path, f.line, f.function) for f in frames))
            call = by_key.get(key)
            if call is None:
                call = by_key[key] = RuntimeCall(c["func"], frames, c.get("callee") or c["func"])
            call.count += int(c["count"])
            call.total_ms += float(c["total_ms"])
            call.max_ms = max(call.max_ms, float(c["max_ms"]))
            for t, n in c.get("tests", {}).items():
                call.tests[t] = call.tests.get(t, 0) + int(n)
        for entry, n in data.get("allowed", {}).items():
            out.allowed[entry] = out.allowed.get(entry, 0) + int(n)
        out.lag.add(data.get("lag", {}))
        for test, lag in data.get("per_test", {}).items():
            out.per_test.setdefault(test, Lag()).add(lag)
        out.stalls += [dict(st, pid=data.get("pid")) for st in data.get("stalls", []) if isinstance(st, dict)]
        lifespan = data.get("lifespan") or {}
        out.lifespan.add(lifespan)
        for kind, n in (lifespan.get("phases") or {}).items():
            out.lifespan_phases[kind] = out.lifespan_phases.get(kind, 0) + int(n)
        out.lifespan_stalls += [dict(st, pid=data.get("pid")) for st in lifespan.get("stalls_kept", [])
                                if isinstance(st, dict)]
        out.errors += [e for e in data.get("errors", []) if e not in out.errors]
    out.calls = sorted(by_key.values(), key=lambda c: (c.site.path, c.site.line, c.frame.path, c.frame.line, c.func))
    for stalls in (out.stalls, out.lifespan_stalls):
        stalls.sort(key=lambda st: -float(st.get("ms", 0.0)))
        del stalls[MAX_STALLS_REPORTED:]
    return out


def classify(calls: Iterable[RuntimeCall], findings: Iterable[Any], suppressed: Iterable[Any]) -> None:
    """Known when a static finding (its call's lines, or a hop of its chain) sits at a project frame."""
    def index(items: Iterable[Any]) -> dict[tuple[str, int], list[str]]:
        out: dict[tuple[str, int], list[str]] = {}
        for f in items:
            for line in range(f.line, max(f.line, f.end_line) + 1):
                out.setdefault((f.path, line), []).append(f.code)
            for hop in f.via:
                out.setdefault((hop.path, hop.line), []).append(f.code)
        return out

    known, hidden = index(findings), index(suppressed)
    for call in calls:  # the innermost matching frame names the most specific finding
        for state, idx in (("known", known), ("suppressed", hidden)):
            codes = next((idx[(fr.path, fr.line)] for fr in call.frames if (fr.path, fr.line) in idx), None)
            if codes:
                call.scan, call.codes = state, sorted(set(codes))
                break


def catalog_entries(calls: Iterable[RuntimeCall]) -> list[str]:
    """``blocking-calls`` lines for the scanner to learn the calls it missed (one per callee)."""
    seen: dict[str, None] = {}
    for call in calls:
        if call.scan == "missed":
            seen.setdefault(call.callee, None)
    return [f'"{name}" = "asyncio.to_thread"' for name in seen]


def outcomes(results: Results, scope_rels: set[str], open_static: dict[str, int],
             command_ok: bool, include_lifespan: bool = False) -> dict[str, Any]:
    """Per module: failed with what blocked (attributed to the ``async def`` that ran it), or verified
    when it is in scope, has no open static finding and the command succeeded."""
    from .manifest import VerifyOutcome

    blocking: dict[str, list[str]] = {}
    for frame, site, group in group_calls(results.calls):
        if site.path.startswith(("/", "../")) or ":" in site.path:
            continue  # a --modules package outside the project: not a manifest module
        text = f"{site.path}:{site.line} {site.function}"
        if frame is not site:
            text += f" -> {frame.path}:{frame.line} {frame.function}"
        funcs: dict[str, int] = {}
        for c in group:
            funcs[c.func] = funcs.get(c.func, 0) + c.count
        text += ": " + ", ".join(f"{f} x{n}" for f, n in sorted(funcs.items()))
        text += f" ({sum(c.total_ms for c in group):.1f} ms)"
        blocking.setdefault(site.path, []).append(text)
    lag = round(results.counted_max_ms(include_lifespan), 3) if results.lag.samples or results.lifespan.samples \
        else None
    out: dict[str, Any] = {rel: VerifyOutcome(False, items, lag) for rel, items in blocking.items()}
    if command_ok:
        for rel in scope_rels:
            if rel not in out and not open_static.get(rel):
                out[rel] = VerifyOutcome(True, [], lag)
    return out


# ----- report ---------------------------------------------------------------------------------------------

def _tests(tests: dict[str, int]) -> str:
    named = [t for t in tests if t]
    if not named:
        return ""
    first = named[0].rsplit("::", 1)[-1]
    return first + (f" +{len(named) - 1}" if len(named) > 1 else "")


def group_calls(calls: Iterable[RuntimeCall]) -> list[tuple[Frame, Frame, list[RuntimeCall]]]:
    """Rows of the report: one per (project frame, async site), with every blocked function under it."""
    groups: dict[tuple, tuple[Frame, Frame, list[RuntimeCall]]] = {}
    for c in calls:
        key = (c.frame.path, c.frame.line, c.frame.function, c.site.path, c.site.line, c.site.function)
        groups.setdefault(key, (c.frame, c.site, []))[2].append(c)
    return sorted(groups.values(), key=lambda g: (g[1].path, g[1].line, g[0].path, g[0].line))


def print_report(results: Results, threshold_ms: float, console: Console, command_rc: int,
                 not_verified: dict[str, int], include_lifespan: bool = False) -> None:
    calls = results.calls
    if calls:
        total = sum(c.count for c in calls)
        rows = group_calls(calls)
        table = Table(title=f"Blocking calls on the event loop: {len(rows)} project frame(s), {total} call(s)",
                      title_justify="left")
        for name in ("project frame", "in async", "blocked", "calls", "ms", "scan", "tests"):
            table.add_column(name, overflow="fold", justify="right" if name in ("calls", "ms") else "left")
        for frame, site, group in rows:
            funcs: dict[str, int] = {}
            for c in group:
                funcs[c.func] = funcs.get(c.func, 0) + c.count
            scans = {c.scan for c in group}
            codes = sorted({code for c in group for code in c.codes})
            scan = ("[yellow]missed[/yellow]" if "missed" in scans else
                    ("known " if "known" in scans else "suppressed ") + ",".join(codes))
            tests: dict[str, int] = {}
            for c in group:
                for t, n in c.tests.items():
                    tests[t] = tests.get(t, 0) + n
            table.add_row(str(frame), "" if site is frame else str(site),
                          ", ".join(f"{f} x{n}" for f, n in sorted(funcs.items())),
                          str(sum(funcs.values())), f"{sum(c.total_ms for c in group):.1f}", scan,
                          _tests(tests))
        console.print(table)
        missed = [c for c in calls if c.scan == "missed"]
        if missed:
            console.print(f"\n{len(missed)} blocking call site(s) the static scan missed; to teach it, add to "
                          "pyproject.toml:")
            console.print("  [tool.asgi-migrate]", markup=False)
            console.print("  blocking-calls = { " + ", ".join(catalog_entries(missed)) + " }", markup=False)
    else:
        console.print("No blocking call from the project ran on an event loop.")
    lag = results.lag
    lifespan = results.lifespan
    if lag.samples or lifespan.samples:
        p99 = lag.percentile(0.99)
        over = lag.max_ms > threshold_ms
        mark = "[red]" if over else ""
        where = ", outside ASGI lifespan startup/shutdown" if lifespan.samples else ""
        console.print(f"\nEvent-loop lag ({results.loops} loop run(s), {lag.samples} samples every "
                      f"{results.interval_ms:g} ms{where}): {mark}max {lag.max_ms:.1f} ms{'[/red]' if over else ''}, "
                      f"p99 {p99:.1f} ms, {lag.stalls} stall(s) over {threshold_ms:g} ms")
        if lifespan.samples:
            phases = ", ".join(f"{n} {kind}(s)" for kind, n in sorted(results.lifespan_phases.items(), reverse=True)
                               if n)
            over = include_lifespan and lifespan.max_ms > threshold_ms
            mark = "[red]" if over else ""
            verdict = ("counted (--lag-include-lifespan)" if include_lifespan else
                       "not counted: a server serves no request before startup completes or after shutdown "
                       "starts (--lag-include-lifespan counts it)")
            console.print(f"Lag during ASGI lifespan startup/shutdown ({phases}, {lifespan.samples} samples): "
                          f"{mark}max {lifespan.max_ms:.1f} ms{'[/red]' if over else ''}, "
                          f"p99 {lifespan.percentile(0.99):.1f} ms, {lifespan.stalls} stall(s) over "
                          f"{threshold_ms:g} ms; {verdict}")
        cpu_wait = lag.cpu_wait_ms + lifespan.cpu_wait_ms
        if cpu_wait >= 1.0:
            console.print(f"  not counted: {cpu_wait:.0f} ms the loop threads were runnable but waiting for a "
                          f"CPU (the machine was busy); raw lateness up to "
                          f"{max(lag.wall_max_ms, lifespan.wall_max_ms):.1f} ms", markup=False)
        if results.gc_full["count"]:
            console.print(f"  garbage collector: {results.gc_full['count']:g} full collection(s), the longest "
                          f"{results.gc_full['max_ms']:.1f} ms (it holds the GIL: every loop waits)", markup=False)
        if not results.cpu_wait_measured:
            console.print("  (time waiting for a CPU not measured on this system: the figures include it)",
                          markup=False)
        slow = sorted(((t, v) for t, v in results.per_test.items() if v.samples), key=lambda tv: -tv[1].max_ms)
        if slow:
            table = Table(title="Slowest tests by loop lag", title_justify="left")
            for name in ("test", "max ms", "p99 ms", "stalls"):
                table.add_column(name, overflow="fold", justify="left" if name == "test" else "right")
            for test, v in slow[:10]:
                table.add_row(test, f"{v.max_ms:.1f}", f"{v.percentile(0.99):.1f}", str(v.stalls))
            console.print(table)
        if results.stalls:
            print_stalls(results.stalls, threshold_ms, console)
        if results.lifespan_stalls:
            print_stalls(results.lifespan_stalls, threshold_ms, console, LIFESPAN_STALLS_SHOWN,
                         "Lifespan startup/shutdown stalls")
    else:
        console.print("\nNo event loop ran in the command's Python processes: no lag figures.")
    if results.allowed:
        console.print("Allowed (allowlist): " + ", ".join(f"{k} x{n}" for k, n in sorted(results.allowed.items())),
                      markup=False)
    if not_verified:
        console.print("Not verified, static findings still open: " +
                      ", ".join(f"{rel} ({n})" for rel, n in sorted(not_verified.items())), markup=False)
    for error in results.errors:
        console.print(f"[yellow]probe:[/yellow] {error}")
    if command_rc:
        console.print(f"[red]the command itself failed (exit code {command_rc})[/red]")


def _frame_text(frame: dict[str, Any]) -> str:
    if not frame.get("line"):  # the probe's own frame: the wrapper over a blocking function
        return f"{frame['function']} ({frame['path']})"
    return f"{frame['path']}:{frame['line']} ({frame['function']})"


def stack_summary(frames: list[dict[str, Any]]) -> str:
    """A sampled stack in one line: the innermost frame (what ran), the innermost project frame (what led
    to it) and the outermost (the callback or task the loop was running), innermost first."""
    if not frames:
        return "(no Python frame below the loop)"
    picked = [frames[0]]
    project = next((f for f in frames if f.get("project")), None)
    if project is not None and project is not frames[0]:
        picked.append(project)
    if frames[-1] is not picked[-1] and frames[-1] is not frames[0]:
        picked.append(frames[-1])
    text = " <- ".join(_frame_text(f) for f in picked)
    return text + (f" [{len(frames)} frames]" if len(frames) > len(picked) else "")


def stall_lines(stall: dict[str, Any]) -> list[str]:
    """What one stall's samples say ran on the loop, most sampled first."""
    facts = []
    if stall.get("cpu_wait_ms"):
        facts.append(f"{stall.get('wall_ms', stall['ms']):.1f} ms late, {stall['cpu_wait_ms']:.0f} ms of it waiting "
                     "for a CPU")
    if stall.get("cpu_ms") is not None and stall.get("window_ms"):
        facts.append(f"loop thread CPU {stall['cpu_ms']:.0f} of {stall['window_ms']:.0f} ms")
    if stall.get("gc_ms"):
        facts.append(f"GC {stall['gc_ms']:.0f} ms")
    samples = int(stall.get("samples", 0))
    facts.append(f"{samples} sample(s)" if "samples" in stall else "not sampled")
    head = (f"{stall['ms']:.1f} ms" + ("" if stall.get("counted", True) else " (under the threshold once the CPU "
                                       "wait is taken out)") +
            (f" in {stall['phase']}" if stall.get("phase") else "") +
            (f" in {stall['test']}" if stall.get("test") else "") + ": " + ", ".join(facts))
    lines = [head]
    if stall.get("gc_ms") and stall.get("window_ms") and stall["gc_ms"] >= 0.5 * stall["window_ms"]:
        lines.append("  mostly garbage collection: a full collection walks every object of the process (the test "
                     "runner's too), wherever an allocation triggers it")
    for st in stall.get("stacks", [])[:3]:
        if st.get("idle"):
            lines.append(f"  {st['count']}x idle: the loop was waiting in select, no callback running "
                         "(the GIL or the CPU was elsewhere)")
        else:
            lines.append(f"  {st['count']}x {stack_summary(st['frames'])}")
    for other in stall.get("others", [])[:2]:
        lines.append(f"  meanwhile {other['thread']} (busy, {other['count']}x): {stack_summary(other['frames'])}")
    if "samples" in stall and not samples:
        lines.append("  no sample: a stall shorter than the sampling trigger, or one C call holding the GIL")
    return lines


def print_stalls(stalls: list[dict[str, Any]], threshold_ms: float, console: Console, shown: int = STALLS_SHOWN,
                 title: str = "Loop stalls") -> None:
    console.print(f"\n{title} over {threshold_ms:g} ms, longest first, with what the loop thread ran "
                  f"(its stack sampled during the stall; most sampled first):", markup=False)
    for stall in stalls[:shown]:
        for i, line in enumerate(stall_lines(stall)):
            console.print(("  " if i == 0 else "    ") + line, markup=False, overflow="fold")
    if len(stalls) > shown:
        console.print(f"  ... {len(stalls) - shown} more in the JSON report (-o)", markup=False)


def to_json(results: Results, threshold_ms: float, command: Sequence[str], command_rc: int,
            include_lifespan: bool = False) -> dict[str, Any]:
    return {
        "command": list(command), "returncode": command_rc, "threshold_ms": threshold_ms,
        "processes": results.processes, "loops": results.loops,
        "calls": [{"func": c.func, "frame": vars(c.frame), "site": vars(c.site), "frames": [vars(f) for f in c.frames],
                   "callee": c.callee, "count": c.count, "total_ms": round(c.total_ms, 3),
                   "max_ms": round(c.max_ms, 3), "scan": c.scan, "codes": c.codes, "tests": c.tests}
                  for c in results.calls],
        "suggested_blocking_calls": catalog_entries(results.calls),
        "lag": {**results.lag.as_dict(), "interval_ms": results.interval_ms,
                "per_test": {t: v.as_dict() for t, v in sorted(results.per_test.items())},
                "cpu_wait_measured": results.cpu_wait_measured, "gc_full": results.gc_full,
                "longest_stalls": results.stalls,
                "lifespan": {**results.lifespan.as_dict(), "phases": results.lifespan_phases,
                             "counted": include_lifespan, "longest_stalls": results.lifespan_stalls}},
        "allowed": results.allowed, "errors": results.errors,
    }


# ----- the phase ----------------------------------------------------------------------------------------

@dataclass
class VerifyRun:
    exit_code: int
    results: Results
    returncode: int


def verify(root: Path, config: Any, command: Sequence[str], *, modules: Sequence[str] = (),
           allow: Sequence[str] = (), threshold_ms: float = DEFAULT_LAG_THRESHOLD_MS,
           console: Console | None = None, output: Path | None = None, cwd: Path | None = None,
           include_lifespan: bool = False) -> VerifyRun:
    """Run the whole phase; ``VerifyError`` for exit-2 problems, else the exit code and results.
    ``include_lifespan``: lag during ASGI lifespan startup/shutdown counts against the threshold too."""
    from .engine import scan
    from .manifest import Manifest, ManifestError, editing

    console = console or Console(highlight=False, width=None if sys.stdout.isatty() else 160)
    if not command:
        raise VerifyError("no command to run: asgi-migrate verify [OPTIONS] -- COMMAND...")
    entries = [*(e for e, _ in DEFAULT_ALLOW), *config_allow(root), *parse_allow(allow)]
    try:  # a corrupt manifest stops the phase before the command runs, as the other phases do
        has_manifest = Manifest.load(root, missing_ok=True).exists()
    except ManifestError as exc:
        raise VerifyError(str(exc)) from None
    static = scan([root], config)
    scope = resolve_scope(root, static.files, list(modules))
    with tempfile.TemporaryDirectory(prefix="asgi-migrate-verify-") as tmp:
        env = prepare(Path(tmp), root, scope, entries, threshold_ms)
        rc = run_command(command, env, cwd)
        results = load_results(Path(tmp) / "results")
    if not results.processes:
        raise VerifyError(f"`{shlex.join(command)}` exited {rc} and no Python process of it reported: the probe "
                          "was not loaded (is it a Python command? -I, -E and -S skip PYTHONPATH and sitecustomize)")
    classify(results.calls, static.findings, static.analysis.suppressed if static.analysis else [])
    open_static: dict[str, int] = {}
    for f in static.findings:
        open_static[f.path] = open_static.get(f.path, 0) + 1
    not_verified = {rel: n for rel, n in open_static.items() if rel in scope.rels}
    print_report(results, threshold_ms, console, rc, not_verified, include_lifespan)
    if output:
        output.write_text(json.dumps(to_json(results, threshold_ms, command, rc, include_lifespan), indent=2) + "\n",
                          encoding="utf-8")
    if has_manifest:
        try:
            with editing(root) as manifest:
                manifest.record_verify(outcomes(results, scope.rels, open_static, rc == 0, include_lifespan),
                                       command=shlex.join(command))
        except (ManifestError, OSError) as exc:
            raise VerifyError(f"verify ran, but the manifest was not updated: {exc}") from None
    broken = [e for e in results.errors if "not installed" in e]
    lag_max = results.counted_max_ms(include_lifespan)
    lag_over = lag_max > threshold_ms
    if broken:
        code = EXIT_ERROR
    elif results.calls or lag_over or rc != 0:
        code = EXIT_FAILED
    else:
        code = EXIT_OK
    verdict = {EXIT_OK: "[green]verify: passed[/green]", EXIT_ERROR: "[red]verify: the probe did not run fully[/red]",
               EXIT_FAILED: "[red]verify: failed[/red]"}[code]
    reasons = []
    if results.calls:
        reasons.append(f"{sum(c.count for c in results.calls)} blocking call(s) from "
                       f"{len(group_calls(results.calls))} project frame(s)")
    if lag_over:
        reasons.append(f"max loop lag {lag_max:.1f} ms over {threshold_ms:g} ms" +
                       (" (lifespan included)" if include_lifespan and results.lifespan.max_ms > results.lag.max_ms
                        else ""))
    if rc != 0:
        reasons.append(f"the command exited {rc}")
    console.print(verdict + (": " + "; ".join(reasons) if reasons else ""))
    return VerifyRun(code, results, rc)

#!/usr/bin/env python3
"""Prove, over a >1M-line corpus of real code, that the codemods never leave a repository worse than they found it.

For each code base downloaded by ``benchmarks/corpus.py`` (default: every one present in ``.cache/corpus``), the
script copies it to ``.cache/work/robustness/<name>/base`` with a ``pyproject.toml`` whose ``exclude = []`` makes
*every* ``.py`` file part of the run (tests and migrations included), then, through the Python API (the
exact functions the CLI runs: ``cli.engine.scan``, ``cli.rewrite.plan_file`` with ``cli.app._offload_rewriter`` and,
when present, the native phase's ``build_plan`` + rewriter):

1. **scan** the whole code base once (cold, no cache); files it cannot analyse are *skipped with a reason*
   (histogram in the report);
2. for **every file** (in at most ``--jobs`` worker processes, 2 by default):

   * **libcst round trip**: ``parse_module(text).code == text``, probed with a raised recursion limit; a
     failure is listed with the first differing line (LibCST#1457: ``except (A, B) :``);
   * **offload dry run**: ``plan_file(path, rel, findings_of_file, rewriter)`` at the default recursion limit
     (what the CLI does), and **native dry run** for every file of the native plan;
   * any exception escaping ``plan_file`` is a **crash** (caught per file, listed, the run goes on);
   * a rewritten file must **compile**: the bytes that ``--write`` would write (BOM + text in the file's own
     encoding) go through ``compile()``;
   * a file whose round trip fails must come back **unchanged** (the rewriter refuses it);
   * **untouched regions are byte-identical** (see ``region_violations``). The *change spans* are (a) the span
     (first decorator .. last line) of the innermost function enclosing each site the phase was asked to change
     (offload: a finding or hazard of the file; native: a converted finding, a ``def`` made async, an awaited
     call, an un-offloaded call, a review item) and (b) every module-level import statement (also inside a
     module-level ``try``/``if``). Every other old line is *untouched* and must be in the rewrite byte for byte,
     in order, in contiguous pieces; a piece may only be split (an insertion) at the first line after the
     previous sibling of a def/class enclosing a site (where helpers go), around an import statement, or inside
     the module header (docstring, ``__future__``, leading imports: where ``import asyncio`` goes). Blank lines at
     the two ends of a piece are not compared (a helper or a removed import brings or takes its separator).
     A piece not found is a violation, reported with its old line range;
3. writes each phase's rewritten files into ``.cache/work/robustness/<name>/<phase>`` and runs the phase
   again there (re-scan, re-plan): the **second pass must change nothing**.

Exit status: 1 on any crash, compile failure, changed round-trip-failing file, region violation or second-pass
change; 0 otherwise. ``--json FILE`` also writes every count and example.

Usage (from the repository root)::

    python benchmarks/robustness.py                              # whole corpus (~2.8M lines), both phases
    python benchmarks/robustness.py --only litellm-1.110.2       # >1M lines on its own
    python benchmarks/robustness.py --phases offload --max-files 500
    python benchmarks/robustness.py --properties 2000            # plus the property tests with 2000 examples

The property tests (``tests/test_properties.py``) run ``ASGI_MIGRATE_PROPERTY_EXAMPLES`` examples per property
(50 in the default test run); ``--properties N`` runs them with N.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import functools
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / ".cache" / "corpus"
WORK = REPO / ".cache" / "work" / "robustness"
PROBE_RECURSION_LIMIT = 60_000  # enough for libcst's codegen on pydoc_data/topics.py (15.7k lines)
EXAMPLES = 8  # examples kept per kind of problem
# review reasons that are not the code's fault but ours: caught (the file is left alone), listed with the file
SUSPICIOUS = ("internal error", "no call found")

sys.path.insert(0, str(REPO))

from asgi_migrate.cli.app import _offload_rewriter  # noqa: E402
from asgi_migrate.cli.config import load_config  # noqa: E402
from asgi_migrate.cli.engine import scan  # noqa: E402
from asgi_migrate.cli.files import decode  # noqa: E402
from asgi_migrate.cli.rewrite import FileChange, plan_file  # noqa: E402

try:  # the native phase is optional: it is being finished separately
    from asgi_migrate.cli.native_phase import _rewrite as _native_rewrite
    from asgi_migrate.codemods.native.base import NativeConfig
    from asgi_migrate.codemods.native.plan import build_plan
    from asgi_migrate.codemods.native.targets import select_targets
    NATIVE = True
except Exception:  # noqa: BLE001 - absent or broken: the report says so
    NATIVE = False


# ---------------------------------------------------------------------------------------------
# Regions a phase may change
# ---------------------------------------------------------------------------------------------

Span = tuple[int, int]  # 1-based inclusive old-line range


@dataclass
class _Node:
    start: int  # first decorator line (or the statement's first line)
    end: int
    gap: int  # first line after the previous sibling (or the parent's header)
    parent: _Node | None
    is_def: bool


def _collect(tree: ast.Module) -> tuple[list[_Node], list[_Node], int]:
    """(function/class nodes, module-level import nodes, last line of the module header)."""
    scopes: list[_Node] = []
    imports: list[_Node] = []

    def walk(body: list[ast.stmt], first_free: int, parent: _Node | None, top: bool) -> None:
        prev_end = first_free - 1
        for stmt in body:
            start = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])])
            end = stmt.end_lineno or stmt.lineno
            gap = prev_end + 1
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                node = _Node(start, end, gap, parent, not isinstance(stmt, ast.ClassDef))
                scopes.append(node)
                walk(stmt.body, stmt.body[0].lineno if stmt.body else end, node, False)
            elif isinstance(stmt, (ast.Import, ast.ImportFrom)) and top:
                imports.append(_Node(start, end, gap, parent, False))
            else:
                # imports in a module-level try/if (handlers included) count as module-level imports
                blocks = (ast.Try, ast.If) + ((ast.TryStar,) if hasattr(ast, "TryStar") else ())
                child_top = top and isinstance(stmt, blocks)
                for name in ("body", "orelse", "finalbody", "handlers"):
                    sub = getattr(stmt, name, None)
                    if isinstance(sub, list) and sub and isinstance(sub[0], (ast.stmt, ast.excepthandler)):
                        stmts = [s for h in sub for s in h.body] if isinstance(sub[0], ast.excepthandler) else sub
                        walk(stmts, stmts[0].lineno, parent, child_top)
                if isinstance(stmt, ast.Match):
                    for case in stmt.cases:
                        walk(case.body, case.body[0].lineno, parent, False)
            prev_end = end

    walk(tree.body, 1, None, True)
    header = len(tree.body) and tree.body[-1].end_lineno or 0
    for i, stmt in enumerate(tree.body):
        docstring = i == 0 and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
        importish = isinstance(stmt, (ast.Import, ast.ImportFrom)) or (
            isinstance(stmt, (ast.Try, ast.If)) and any(isinstance(s, (ast.Import, ast.ImportFrom)) for s in stmt.body))
        if not (docstring or importish):
            header = stmt.lineno - 1
            break
    return scopes, imports, header


def region_violations(old: str, new: str, sites: list[int], limit: int = 3) -> list[str]:
    """Untouched regions of ``old`` that are not in ``new`` byte for byte, in order (see the module docstring).

    The old lines outside the *change spans* (the innermost function around each site, module-level import
    statements) are cut into pieces at the *insertion points* (the first line after the previous sibling of every
    def/class around a site, the lines around import statements, every line of the module header). Each piece,
    without the blank lines at its two ends (helpers and imports bring their own separators), must occur in
    ``new`` as whole lines, after the previous piece. Anything else is a violation.
    """
    try:
        tree = ast.parse(old)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        return [f"cannot parse the original to check regions: {exc.__class__.__name__}"]
    scopes, imports, header = _collect(tree)
    change: list[Span] = [(n.start, n.end) for n in imports]
    cuts: set[int] = set(range(1, header + 2))  # a piece starts at each of these old lines
    for n in imports:
        cuts.update((n.gap, n.start, n.end + 1))
    for line in sites:
        inner = [n for n in scopes if n.start <= line <= n.end]
        fn = max((n for n in inner if n.is_def), key=lambda n: n.start, default=None)
        if fn is not None:
            change.append((fn.start, fn.end))
        for n in inner:  # every enclosing def/class: helpers go above the statement that needs them
            cuts.update((n.gap, n.start, n.end + 1))
    old_lines = old.splitlines(keepends=True)
    pieces: list[tuple[int, list[str]]] = []
    current: list[str] = []
    first = 0
    for k, text in enumerate(old_lines, 1):
        if any(s <= k <= e for s, e in change):
            if current:
                pieces.append((first, current))
            current = []
            continue
        if k in cuts and current:
            pieces.append((first, current))
            current = []
        if not current:
            first = k
        current.append(text)
    if current:
        pieces.append((first, current))
    out: list[str] = []
    pos = 0
    for first, lines in pieces:
        lo, hi = 0, len(lines)
        while lo < hi and not lines[lo].strip():
            lo += 1
        while hi > lo and not lines[hi - 1].strip():
            hi -= 1
        if lo == hi:
            continue
        text = "".join(lines[lo:hi])
        idx = new.find(text, pos)
        while idx > 0 and new[idx - 1] not in "\n\r":  # whole lines only
            idx = new.find(text, idx + 1)
        if idx < 0:
            shown = "".join(lines[lo:hi][:4]).rstrip()
            out.append(f"old lines {first + lo}-{first + hi - 1} not in the rewrite unchanged:\n{shown}")
            if len(out) >= limit:
                break
            continue
        pos = idx + len(text)
    return out


# ---------------------------------------------------------------------------------------------
# Per-file work (in fork()ed workers: the state below is inherited, never pickled)
# ---------------------------------------------------------------------------------------------

_STATE: dict = {}


@dataclass
class PhaseResult:
    planned: bool = False  # the phase had something to do in this file
    changed: bool = False
    new: bytes | None = None
    error: str = ""  # the file was refused, with this reason
    review: list[str] = field(default_factory=list)
    suspicious: list[str] = field(default_factory=list)  # review reasons that point at a bug of ours
    crash: str = ""
    compile_error: str = ""
    regions: list[str] = field(default_factory=list)
    rt_changed: bool = False  # the round trip failed and the file was changed anyway


@dataclass
class FileResult:
    rel: str
    lines: int = 0
    roundtrip: str = "ok"  # ok | differs | error
    roundtrip_detail: str = ""
    phases: dict[str, PhaseResult] = field(default_factory=dict)


def _roundtrip(text: str) -> tuple[str, str]:
    import libcst as cst

    old = sys.getrecursionlimit()
    sys.setrecursionlimit(PROBE_RECURSION_LIMIT)
    try:
        code = cst.parse_module(text).code
    except cst.ParserSyntaxError as exc:
        return "error", f"libcst cannot parse: {exc.message}"
    except RecursionError:
        return "error", "RecursionError even at the raised limit"
    except Exception as exc:  # noqa: BLE001 - reported, never fatal
        return "error", f"{exc.__class__.__name__}: {str(exc)[:100]}"
    finally:
        sys.setrecursionlimit(old)
    if code == text:
        return "ok", ""
    a, b = text.splitlines(), code.splitlines()
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return "differs", f"line {i + 1}: {x.strip()!r} -> {y.strip()!r}"
    return "differs", f"length {len(a)} -> {len(b)} lines"


def _encoded(change: FileChange) -> bytes:
    return (b"\xef\xbb\xbf" if change.bom else b"") + change.new.encode(change.encoding)


def _run_phase(path: Path, rel: str, findings: list, rewriter, sites: list[int], roundtrip: str) -> PhaseResult:
    res = PhaseResult(planned=True)
    try:
        change = plan_file(path, rel, findings, rewriter)
    except BaseException as exc:  # a crash is what we count
        if isinstance(exc, KeyboardInterrupt):
            raise
        res.crash = "".join(traceback.format_exception_only(type(exc), exc)).strip()[:300] + " @ " + \
            "".join(traceback.format_tb(exc.__traceback__)[-1:]).strip().replace("\n", " ")[:300]
        return res
    res.error = change.error
    res.review = sorted({why.split(":")[0][:80] for _, why in change.review})
    res.suspicious = [f"{f.line}:{f.col} {f.code}: {why[:200]}" for f, why in change.review
                      if why.startswith(SUSPICIOUS)]
    if not change.changed:
        return res
    res.changed = True
    data = _encoded(change)
    res.new = data
    try:
        compile(data, rel, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        res.compile_error = f"{exc.__class__.__name__}: {exc}"
    if roundtrip != "ok":
        res.rt_changed = True
    res.regions = region_violations(change.old, change.new, sites)
    return res


def _work(rel: str) -> FileResult:
    st = _STATE
    path = st["root"] / rel
    out = FileResult(rel)
    try:
        data = path.read_bytes()
        text = decode(data).text
    except Exception as exc:  # noqa: BLE001
        out.roundtrip, out.roundtrip_detail = "error", f"cannot decode: {exc.__class__.__name__}"
        text = None
    if text is not None:
        out.lines = text.count("\n") + (1 if text and not text.endswith("\n") else 0)
        if st["probe"]:
            out.roundtrip, out.roundtrip_detail = _roundtrip(text)
    findings = st["offload"].get(rel)
    if "offload" in st["phases"]:
        fs = findings or []
        out.phases["offload"] = _run_phase(path, rel, fs, st["offload_rewriter"], [f.line for f in fs], out.roundtrip)
        out.phases["offload"].planned = bool(fs)
    if "native" in st["phases"] and rel in st["native"]:
        fs, rewriter, sites = st["native"][rel]
        out.phases["native"] = _run_phase(path, rel, fs, rewriter, sites, out.roundtrip)
    return out


def _map(rels: list[str], jobs: int) -> list[FileResult]:
    if jobs <= 1:
        return [_work(r) for r in rels]
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(jobs) as pool:
        return pool.map(_work, rels, chunksize=8)


# ---------------------------------------------------------------------------------------------
# Phases over one code base
# ---------------------------------------------------------------------------------------------

def _offload_state(result) -> tuple[dict[str, list], object]:
    by_file: dict[str, list] = {}
    hazards = result.analysis.hazards if result.analysis is not None else []
    for f in list(result.findings) + list(hazards):
        by_file.setdefault(f.path, []).append(f)
    rewriter = _offload_rewriter
    if result.analysis is not None:
        rewriter = functools.partial(_offload_rewriter, facts=result.analysis.facts())
    return by_file, rewriter


def _native_state(result, config) -> tuple[dict[str, tuple], str]:
    """rel -> (findings, rewriter, sites) for every file of the native plan; '' or why it could not plan."""
    if not NATIVE or result.analysis is None:
        return {}, "" if NATIVE else "native phase not importable"
    targets = select_targets([])
    sources: dict[str, str] = {}
    for f in result.files:
        if f.rel in result.summaries:
            try:
                sources[f.rel] = decode(f.path.read_bytes()).text
            except Exception:  # noqa: BLE001, S112 - the scan skipped it already, with its reason
                continue
    native_config = NativeConfig(file_backend=getattr(config, "file_backend", "aiofiles"))
    plan = build_plan(result.analysis, targets, sources)
    names = tuple(t.name for t in targets)
    out = {}
    for rel, fp in plan.files.items():
        findings = [f for f, _ in fp.convert]
        sites = [f.line for f in findings] + [line for line, _ in fp.make_async] + \
            [p[0] for p in fp.await_calls] + [p[0] for p in fp.unoffload] + [f.line for f, _ in fp.review]
        rewriter = functools.partial(_native_rewrite, fp=fp, names=names, config=native_config)
        out[rel] = (findings, rewriter, sites)
    return out, ""


def _prepare(name: str, dest: Path) -> None:
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(CORPUS / name, dest, symlinks=True,
                    ignore=shutil.ignore_patterns(".corpus.json", "__pycache__", ".asgi-migrate-cache"))
    # every .py file takes part: tests, migrations and all (the default excludes would hide them)
    (dest / "pyproject.toml").write_text(f"[project]\nname = \"{name}\"\n\n[tool.asgi-migrate]\nexclude = []\n")


def _scan(root: Path, jobs: int):
    config = load_config(root)
    return scan([root], config, jobs=jobs, use_cache=False), config


def run_codebase(name: str, phases: list[str], jobs: int, max_files: int | None, probe: bool) -> dict:
    t0 = time.perf_counter()
    base = WORK / name / "base"
    _prepare(name, base)
    report: dict = {"name": name, "crashes": [], "timings": {}}
    try:
        result, config = _scan(base, jobs)
    except Exception:  # noqa: BLE001 - a crash of the scan itself
        report["crashes"].append(f"scan: {traceback.format_exc(limit=3)}")
        return report
    report["timings"]["scan"] = time.perf_counter() - t0
    rels = sorted(f.rel for f in result.files)
    if max_files is not None:
        rels = rels[:max_files]
    chosen = set(rels)
    report.update(files=len(rels), scanned=sum(1 for r in rels if r in result.summaries),
                  skipped=Counter(s.reason.split(":")[0] for s in result.skipped if s.path in chosen),
                  skipped_examples=[f"{s.path}: {s.reason}" for s in result.skipped if s.path in chosen][:EXAMPLES],
                  findings=sum(1 for f in result.findings if f.path in chosen))
    offload_by_file, offload_rewriter = _offload_state(result)
    native_by_file, native_why = ({}, "") if "native" not in phases else _native_state(result, config)
    if "native" in phases and not NATIVE:
        report["native"] = native_why
    _STATE.clear()
    _STATE.update(root=base, phases=phases, probe=probe, offload=offload_by_file, offload_rewriter=offload_rewriter,
                  native=native_by_file)
    t1 = time.perf_counter()
    files = _map(rels, jobs)
    report["timings"]["plan"] = time.perf_counter() - t1
    report["lines"] = sum(f.lines for f in files)
    rt = [f for f in files if f.roundtrip == "differs"]
    report["roundtrip_fail"] = len(rt)
    report["roundtrip_examples"] = [f"{f.rel}: {f.roundtrip_detail}" for f in rt][:EXAMPLES]
    rt_err = [f for f in files if f.roundtrip == "error"]
    report["roundtrip_error"] = Counter(f.roundtrip_detail.split(":")[0] for f in rt_err)
    report["roundtrip_error_examples"] = [f"{f.rel}: {f.roundtrip_detail}" for f in rt_err][:EXAMPLES]
    for phase in phases:
        if phase == "native" and not NATIVE:
            continue
        report[phase] = _phase_report(name, phase, files, jobs)
    report["timings"]["total"] = time.perf_counter() - t0
    return report


def _phase_report(name: str, phase: str, files: list[FileResult], jobs: int) -> dict:
    results = {f.rel: f.phases[phase] for f in files if phase in f.phases}
    rep: dict = {
        "planned": sum(1 for r in results.values() if r.planned),
        "rewritten": sum(1 for r in results.values() if r.changed),
        "crashes": [f"{rel}: {r.crash}" for rel, r in results.items() if r.crash],
        "compile_fail": [f"{rel}: {r.compile_error}" for rel, r in results.items() if r.compile_error],
        "rt_changed": [rel for rel, r in results.items() if r.rt_changed],
        "regions": [f"{rel}: {v}" for rel, r in results.items() for v in r.regions],
        "refused": Counter(r.error.split("(")[0].split(":")[0].strip()[:70] for r in results.values() if r.error),
        "refused_examples": [f"{rel}: {r.error[:160]}" for rel, r in results.items() if r.error][:EXAMPLES],
        "review": Counter(why for r in results.values() for why in r.review),
        "suspicious": [f"{rel}:{x}" for rel, r in results.items() for x in r.suspicious],
    }
    # second pass: write the rewritten files into a copy, scan it again, plan again: nothing may change
    t0 = time.perf_counter()
    copy = WORK / name / phase
    if copy.exists():
        shutil.rmtree(copy)
    shutil.copytree(WORK / name / "base", copy, symlinks=True)
    for rel, r in results.items():
        if r.changed and r.new is not None and not r.compile_error:
            (copy / rel).write_bytes(r.new)
    rewritten = {rel for rel, r in results.items() if r.changed}
    second_changes: list[str] = []
    second_crashes: list[str] = []
    try:
        result2, config2 = _scan(copy, jobs)
        if phase == "offload":
            by_file, rewriter = _offload_state(result2)
            work = {rel: (fs, rewriter, [f.line for f in fs]) for rel, fs in by_file.items()}
        else:
            work, _ = _native_state(result2, config2)
        _STATE.clear()
        _STATE.update(root=copy, phases=[phase], probe=False, offload={}, offload_rewriter=None,
                      native=work if phase == "native" else {})
        if phase == "offload":
            _STATE["offload"] = {rel: fs for rel, (fs, _, _) in work.items()}
            _STATE["offload_rewriter"] = rewriter
        for f in _map(sorted(work), jobs):
            r = f.phases.get(phase)
            if r is None:
                continue
            if r.crash:
                second_crashes.append(f"{f.rel}: {r.crash}")
            elif r.changed:
                old = (copy / f.rel).read_bytes()
                diff = "".join(list(difflib.unified_diff(old.decode("utf-8", "replace").splitlines(True),
                                                         r.new.decode("utf-8", "replace").splitlines(True), n=0))[2:8])
                tag = "rewritten in pass 1" if f.rel in rewritten else "untouched in pass 1"
                second_changes.append(f"{f.rel} ({tag}):\n{diff.rstrip()}")
    except Exception:  # noqa: BLE001
        second_crashes.append(f"second pass: {traceback.format_exc(limit=4)}")
    rep["second_pass_changes"] = second_changes
    rep["crashes"] += second_crashes
    rep["second_pass_seconds"] = time.perf_counter() - t0
    return rep


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

def _fmt_counter(c: Counter, n: int = 6) -> str:
    return "; ".join(f"{k or '?'} x{v}" for k, v in c.most_common(n)) or "-"


def print_report(reports: list[dict], phases: list[str], seconds: float) -> int:
    rows = [("code base", "files", "lines", "scanned", "skipped", "rt fail")]
    for p in phases:
        rows[0] += (f"{p}: planned", "rewritten", "refused", "crash", "no-compile", "rt changed", "regions", "2nd pass")
    total = Counter()
    for r in reports:
        row = (r["name"], r.get("files", 0), r.get("lines", 0), r.get("scanned", 0), sum(r.get("skipped", {}).values()),
               r.get("roundtrip_fail", 0))
        total.update(dict(zip(rows[0][1:6], row[1:])))
        for p in phases:
            ph = r.get(p)
            if not isinstance(ph, dict):
                row += ("n/a",) * 8
                continue
            vals = (ph["planned"], ph["rewritten"], sum(ph["refused"].values()), len(ph["crashes"]),
                    len(ph["compile_fail"]), len(ph["rt_changed"]), len(ph["regions"]), len(ph["second_pass_changes"]))
            row += vals
            total.update({f"{p}:{i}": v for i, v in enumerate(vals)})
        rows.append(row)
    tot = ("TOTAL", *(total[k] for k in rows[0][1:6]))
    for p in phases:
        tot += tuple(total[f"{p}:{i}"] for i in range(8))
    rows.append(tot)
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for k, row in enumerate(rows):
        print("  ".join(str(v).rjust(w) if i else str(v).ljust(w) for i, (v, w) in enumerate(zip(row, widths))))
        if k == 0 or k == len(rows) - 2:
            print("  ".join("-" * w for w in widths))
    bad = 0
    print(f"\n{seconds:.0f} s in all")
    for r in reports:
        print(f"\n== {r['name']}  ({', '.join(f'{k} {v:.0f}s' for k, v in r.get('timings', {}).items())})")
        print(f"   skipped by the scan: {_fmt_counter(r.get('skipped', Counter()))}")
        for ex in r.get("skipped_examples", [])[:3]:
            print(f"     {ex}")
        print(f"   libcst round trip fails: {r.get('roundtrip_fail', 0)}; cannot probe: "
              f"{_fmt_counter(r.get('roundtrip_error', Counter()))}")
        for ex in r.get("roundtrip_examples", []) + r.get("roundtrip_error_examples", [])[:3]:
            print(f"     {ex}")
        for c in r.get("crashes", []):
            print(f"   CRASH {c}")
            bad += 1
        for p in phases:
            ph = r.get(p)
            if not isinstance(ph, dict):
                print(f"   {p}: {ph or 'not run'}")
                continue
            print(f"   {p}: refused {_fmt_counter(ph['refused'])}")
            for ex in ph["refused_examples"][:3]:
                print(f"     {ex}")
            print(f"   {p}: review reasons {_fmt_counter(ph['review'], 5)}")
            for ex in ph.get("suspicious", [])[:EXAMPLES]:
                print(f"   {p} caught (left for review, a bug of ours): {ex}")
            for kind in ("crashes", "compile_fail", "rt_changed", "regions", "second_pass_changes"):
                for ex in ph[kind][:EXAMPLES]:
                    print(f"   {p} {kind.upper()} {ex}")
                bad += len(ph[kind])
    print("\nRESULT: " + ("OK: no crash, every rewrite compiles, round-trip failures untouched, only the expected "
                          "regions changed, second pass changes nothing" if not bad else f"{bad} PROBLEM(S)"))
    return 1 if bad else 0


def _dump(path: Path, reports: list[dict]) -> None:
    path.write_text(json.dumps(reports, indent=1, default=str))


def _brief(r: dict, phases: list[str]) -> str:
    parts = [(f"{r.get('files', 0)} files, {r.get('lines', 0)} lines, {len(r.get('crashes', []))} scan crash(es), "
              f"{r.get('roundtrip_fail', 0)} round-trip failure(s)")]
    for p in phases:
        ph = r.get(p)
        if isinstance(ph, dict):
            parts.append(f"{p}: {ph['rewritten']} rewritten, {len(ph['crashes'])} crash, "
                         f"{len(ph['compile_fail'])} no-compile, {len(ph['regions'])} region, "
                         f"{len(ph['second_pass_changes'])} 2nd-pass")
    return "; ".join(parts) + f" ({r.get('timings', {}).get('total', 0):.0f}s)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", default=None, help="code base folder names under .cache/corpus")
    parser.add_argument("--phases", default="offload,native", help="comma-separated: offload, native")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--max-files", type=int, default=None, help="only the first N files of each code base")
    parser.add_argument("--no-roundtrip-probe", action="store_true", help="skip the libcst round-trip probe")
    parser.add_argument("--json", type=Path, default=None, help="write the full report here")
    parser.add_argument("--properties", type=int, default=0,
                        help="also run tests/test_properties.py with this many examples per property")
    args = parser.parse_args(argv)
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    names = args.only or sorted(p.name for p in CORPUS.iterdir() if p.is_dir()) if CORPUS.is_dir() else []
    if not names:
        print("no corpus: run `python benchmarks/corpus.py --set all` first", file=sys.stderr)
        return 2
    if "native" in phases and not NATIVE:
        print("note: the native phase is not importable; running the other phases", file=sys.stderr)
    start = time.perf_counter()
    reports = []
    for name in names:
        print(f"-- {name} ...", file=sys.stderr, flush=True)
        reports.append(run_codebase(name, phases, max(1, min(args.jobs, 2)), args.max_files,
                                    not args.no_roundtrip_probe))
        print(f"   {_brief(reports[-1], phases)}", file=sys.stderr, flush=True)
        if args.json:  # partial results survive an interrupted run
            _dump(args.json, reports)
    status = print_report(reports, phases, time.perf_counter() - start)
    if args.json:
        _dump(args.json, reports)
    if args.properties:
        env = dict(os.environ, ASGI_MIGRATE_PROPERTY_EXAMPLES=str(args.properties))
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                               str(REPO / "tests" / "test_properties.py")], check=False, cwd=REPO, env=env)
        status = status or (1 if proc.returncode else 0)
    return status


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Compare ``asgi-migrate scan`` with ruff's and flake8-async's ASYNC rules on real code.

For each code base (the downloaded ``--set apps`` corpus by default, or the
directories / files given on the command line) this runs, on the same files:

* ``asgi-migrate scan DIR --format json --exit-zero`` (ours; if it is missing
  or does not print JSON yet, it is reported as unavailable and the linters
  still run);
* ``ruff check --isolated --select ASYNC --output-format json --no-cache --exit-zero FILES``;
* ``flake8 --isolated --select ASYNC,E902,E999 FILES`` with the flake8-async
  plugin (every ASYNC code, including the ASYNC9xx checkpoint rules that
  flake8-async turns off by default; E902/E999 are counted as parse errors,
  not findings).

It prints, per code base: files, lines, counts by code for each tool, how
many of our findings are interprocedural (non-empty ``via``), how many of the
linters' blocking-call findings (codes ASYNC2xx) our scan also reports at the
same path+line and which ones it misses, and each tool's wall time.

``--sample N --seed S`` prints N random findings of ours per code base, with
the via chain and the source line plus 2 lines of context, and writes them to
``.cache/samples/<name>.md`` for hand-checking precision.

Run from the repository root, after ``python benchmarks/corpus.py --set apps``::

    python benchmarks/compare_linters.py
    python benchmarks/compare_linters.py --sample 25 --seed 1
    python benchmarks/compare_linters.py path/to/app another/app --json .cache/compare.json

Tools are looked up in the repository's ``.venv/bin`` first, then on PATH.
flake8-async, if missing: ``.venv/bin/pip install flake8 flake8-async``.
Stdlib only, Python 3.10+.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import corpus  # sibling module: a script's own directory is on sys.path

REPO_ROOT = corpus.REPO_ROOT
VENV_BIN = REPO_ROOT / ".venv" / "bin"
SAMPLES_DIR = REPO_ROOT / ".cache" / "samples"
OURS, RUFF, FLAKE8 = "asgi-migrate", "ruff", "flake8-async"
LINTERS = (RUFF, FLAKE8)
BLOCKING_PREFIX = "ASYNC2"  # ASYNC2xx: the blocking-call family in both linters
FLAKE8_PARSE_ERRORS = ("E902", "E999")
FLAKE8_FORMAT = "%(path)s\t%(row)d\t%(col)d\t%(code)s\t%(text)s"
MAX_ARGV_CHARS = 100_000  # split long file lists over several linter runs


@dataclass
class Finding:
    tool: str
    path: str  # relative to the code base root, POSIX separators
    line: int
    col: int
    code: str
    message: str = ""
    call: str = ""
    function: str = ""
    via: list[str] = field(default_factory=list)  # rendered hops, outermost first
    confidence: str = ""
    evidence: list[str] = field(default_factory=list)
    sink: tuple[str, int] | None = None  # where the blocking call itself is (last via hop)

    @property
    def loc(self) -> tuple[str, int]:
        return (self.path, self.line)


@dataclass
class ToolRun:
    tool: str
    command: list[str]
    available: bool = True
    reason: str = ""  # why it is unavailable
    seconds: float = 0.0
    findings: list[Finding] = field(default_factory=list)
    parse_errors: int = 0  # files the tool could not parse
    scanned: tuple[int, int] | None = None  # (files, lines) as the tool itself reports them

    def by_code(self) -> Counter[str]:
        return Counter(f.code for f in self.findings)


@dataclass
class CodeBase:
    name: str
    root: Path
    files: list[Path]
    lines: int
    runs: dict[str, ToolRun] = field(default_factory=dict)


# --------------------------------------------------------------------------- helpers


def find_tool(name: str, override: str | None) -> str | None:
    if override:
        return override if (Path(override).exists() or shutil.which(override)) else None
    local = VENV_BIN / name
    if local.exists():
        return str(local)
    return shutil.which(name)


def python_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts and p.is_file())


def count_lines(files: list[Path]) -> int:
    return sum(corpus.count_lines(p.read_bytes()) for p in files)


def relpath(root: Path, cwd: Path, raw: str) -> str:
    """A tool's path, made relative to the code base root when it lies inside it."""
    p = Path(raw)
    if not p.is_absolute():
        p = cwd / p
    base = root if root.is_dir() else root.parent
    try:
        return p.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return p.as_posix()


def argv_chunks(files: list[str], limit: int = MAX_ARGV_CHARS) -> list[list[str]]:
    chunks: list[list[str]] = [[]]
    size = 0
    for f in files:
        if chunks[-1] and size + len(f) + 1 > limit:
            chunks.append([])
            size = 0
        chunks[-1].append(f)
        size += len(f) + 1
    return chunks


def tail(text: str, n: int = 3) -> str:
    return " | ".join(text.strip().splitlines()[-n:])


def render_hop(hop: Any) -> str:
    if isinstance(hop, str):
        return hop
    if isinstance(hop, dict):
        name = next((str(hop[k]) for k in ("function", "qualname", "name", "call") if hop.get(k)), "?")
        if hop.get("path") and hop.get("line"):
            return f"{name} ({hop['path']}:{hop['line']})"
        return name
    return json.dumps(hop)


# --------------------------------------------------------------------------- tools


def run_ours(exe: str | None, cb: CodeBase) -> ToolRun:
    cwd = cb.root if cb.root.is_dir() else cb.root.parent
    cmd = [exe or OURS, "scan", str(cb.root), "--format", "json", "--exit-zero"]
    run = ToolRun(OURS, cmd)
    if exe is None:
        run.available, run.reason = False, "asgi-migrate not found (.venv/bin or PATH)"
        return run
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, check=False, capture_output=True, text=True)
    run.seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        run.available, run.reason = False, f"exit {proc.returncode}: {tail(proc.stderr or proc.stdout)}"
        return run
    try:
        data = json.loads(proc.stdout)
        raw_findings = data["findings"]
    except (ValueError, KeyError, TypeError):
        run.available = False
        run.reason = f"output is not the scan JSON: {proc.stdout.strip()[:80]!r}"
        return run
    for f in raw_findings:
        hops = f.get("via") or []
        last = hops[-1] if hops and isinstance(hops[-1], dict) else {}
        sink = (str(last["path"]), int(last["line"])) if last.get("path") and last.get("line") else None
        run.findings.append(
            Finding(
                tool=OURS,
                path=relpath(cb.root, cwd, str(f.get("path", ""))),
                line=int(f.get("line") or 0),
                col=int(f.get("col") or 0),
                code=str(f.get("code", "?")),
                message=str(f.get("message", "")),
                call=str(f.get("call", "")),
                function=str(f.get("function", "")),
                via=[render_hop(h) for h in (f.get("via") or [])],
                confidence=str(f.get("confidence", "")),
                evidence=[str(e) for e in (f.get("evidence") or [])],
                sink=(relpath(cb.root, cwd, sink[0]), sink[1]) if sink else None,
            )
        )
    summary = data.get("summary") if isinstance(data, dict) else None
    if isinstance(summary, dict):
        run.parse_errors = int(summary.get("parse_errors") or summary.get("errors") or 0)
        if isinstance(summary.get("files"), int) and isinstance(summary.get("lines"), int):
            run.scanned = (summary["files"], summary["lines"])
    return run


def run_ruff(exe: str | None, cb: CodeBase, preview: bool) -> ToolRun:
    base = [
        exe or "ruff",
        "check",
        "--isolated",
        "--select",
        "ASYNC",
        "--output-format",
        "json",
        "--no-cache",
        "--exit-zero",
    ] + (["--preview"] if preview else [])
    run = ToolRun(RUFF, base + ["FILES..."])
    if exe is None:
        run.available, run.reason = False, "ruff not found"
        return run
    cwd = cb.root if cb.root.is_dir() else cb.root.parent
    bad_files: set[str] = set()
    for chunk in argv_chunks([str(p) for p in cb.files]):
        t0 = time.perf_counter()
        proc = subprocess.run(base + chunk, check=False, cwd=cwd, capture_output=True, text=True)
        run.seconds += time.perf_counter() - t0
        try:
            items = json.loads(proc.stdout or "[]")
        except ValueError:
            run.available, run.reason = False, f"exit {proc.returncode}: {tail(proc.stderr or proc.stdout)}"
            return run
        for item in items:
            # Syntax errors: code null (older ruff) or "invalid-syntax" (newer); count files, not errors.
            if not str(item.get("code") or "").startswith("ASYNC"):
                bad_files.add(item.get("filename", ""))
                continue
            loc = item.get("location") or {}
            run.findings.append(
                Finding(
                    tool=RUFF,
                    path=relpath(cb.root, cwd, item["filename"]),
                    line=int(loc.get("row", 0)),
                    col=int(loc.get("column", 0)),
                    code=item["code"],
                    message=item.get("message", ""),
                )
            )
    run.parse_errors = len(bad_files)
    return run


def flake8_has_plugin(exe: str) -> bool:
    proc = subprocess.run([exe, "--version"], check=False, capture_output=True, text=True)
    return "flake8-async" in proc.stdout or "flake8_async" in proc.stdout


def run_flake8(exe: str | None, cb: CodeBase) -> ToolRun:
    select = ",".join(("ASYNC",) + FLAKE8_PARSE_ERRORS)
    base = [exe or "flake8", "--isolated", "--select", select, "--format", FLAKE8_FORMAT]
    run = ToolRun(FLAKE8, base + ["FILES..."])
    if exe is None:
        run.available, run.reason = False, "flake8 not found (pip install flake8 flake8-async)"
        return run
    if not flake8_has_plugin(exe):
        run.available, run.reason = False, "flake8-async plugin missing (pip install flake8-async)"
        return run
    cwd = cb.root if cb.root.is_dir() else cb.root.parent
    for chunk in argv_chunks([str(p) for p in cb.files]):
        t0 = time.perf_counter()
        proc = subprocess.run(base + chunk, cwd=cwd, check=False, capture_output=True, text=True)
        run.seconds += time.perf_counter() - t0
        if proc.returncode not in (0, 1):
            run.available, run.reason = False, f"exit {proc.returncode}: {tail(proc.stderr)}"
            return run
        for row in proc.stdout.splitlines():
            parts = row.split("\t", 4)
            if len(parts) != 5 or not parts[1].isdigit():
                continue
            path, line, col, code, text = parts
            if code in FLAKE8_PARSE_ERRORS:
                run.parse_errors += 1
                continue
            run.findings.append(Finding(FLAKE8, relpath(cb.root, cwd, path), int(line), int(col), code, text))
    return run


# --------------------------------------------------------------------------- analysis


@dataclass
class Overlap:
    linter: str
    blocking: int  # the linter's ASYNC2xx findings
    also_ours: int  # ... at a path+line our scan reports too
    missed: list[Finding]
    by_code: dict[str, tuple[int, int]]  # code -> (total, also ours)


def overlap(ours: ToolRun, linter: ToolRun) -> Overlap:
    our_locs = {f.loc for f in ours.findings}
    blocking = [f for f in linter.findings if f.code.startswith(BLOCKING_PREFIX)]
    by_code: dict[str, list[int]] = {}
    missed: list[Finding] = []
    for f in blocking:
        entry = by_code.setdefault(f.code, [0, 0])
        entry[0] += 1
        if f.loc in our_locs:
            entry[1] += 1
        else:
            missed.append(f)
    return Overlap(
        linter.tool,
        len(blocking),
        len(blocking) - len(missed),
        missed,
        {k: (v[0], v[1]) for k, v in sorted(by_code.items())},
    )


def fmt_counts(counter: Counter[str]) -> str:
    return ", ".join(f"{code} {n}" for code, n in sorted(counter.items())) or "-"


def report(cb: CodeBase, show_missed: int) -> dict[str, Any]:
    print(f"\n== {cb.name}  ({cb.root})")
    print(f"   {len(cb.files):,} files, {cb.lines:,} lines")
    print(f"   {'tool':<13} {'time':>8} {'findings':>9} {'ASYNC2xx':>9} {'unparsed':>9}  by code")
    for run in cb.runs.values():
        if not run.available:
            print(f"   {run.tool:<13} {'-':>8} {'-':>9} {'-':>9} {'-':>9}  unavailable: {run.reason}")
            continue
        n2 = sum(1 for f in run.findings if f.code.startswith(BLOCKING_PREFIX))
        n2_cell = "-" if run.tool == OURS else f"{n2:,}"
        print(
            f"   {run.tool:<13} {run.seconds:>7.2f}s {len(run.findings):>9,} {n2_cell:>9} "
            f"{run.parse_errors:>9,}  {fmt_counts(run.by_code())}"
        )
        if run.scanned and (
            run.scanned[0] != len(cb.files) or abs(run.scanned[1] - cb.lines) > cb.lines // 100
        ):
            print(
                f"   {'':<13} note: {run.tool} reports scanning {run.scanned[0]:,} files, "
                f"{run.scanned[1]:,} lines (its own file selection)"
            )

    result: dict[str, Any] = {
        "name": cb.name,
        "root": str(cb.root),
        "files": len(cb.files),
        "lines": cb.lines,
        "tools": {},
        "overlap": {},
    }
    for run in cb.runs.values():
        result["tools"][run.tool] = {
            "available": run.available,
            "reason": run.reason,
            "seconds": round(run.seconds, 3),
            "findings": len(run.findings),
            "parse_errors": run.parse_errors,
            "by_code": dict(sorted(run.by_code().items())),
            "command": run.command,
        }

    ours = cb.runs.get(OURS)
    if ours is None or not ours.available:
        return result
    interproc = [f for f in ours.findings if f.via]
    result["tools"][OURS]["interprocedural"] = len(interproc)
    print(
        f"   ours: {len(ours.findings):,} findings, {len(interproc):,} interprocedural (non-empty via), "
        f"{len(ours.findings) - len(interproc):,} direct; by confidence: "
        f"{fmt_counts(Counter(f.confidence or '?' for f in ours.findings))}"
    )

    linter_locs: set[tuple[str, int]] = set()
    for tool in LINTERS:
        run = cb.runs.get(tool)
        if run is None or not run.available:
            continue
        linter_locs |= {f.loc for f in run.findings if f.code.startswith(BLOCKING_PREFIX)}
        ov = overlap(ours, run)
        result["overlap"][tool] = {
            "blocking": ov.blocking,
            "also_ours": ov.also_ours,
            "missed": len(ov.missed),
            "by_code": ov.by_code,
            "missed_list": [f"{f.path}:{f.line} {f.code}" for f in ov.missed],
        }
        per_code = ", ".join(f"{c} {t}/{a}" for c, (t, a) in ov.by_code.items()) or "-"
        print(
            f"   vs {tool:<13} {ov.blocking:,} ASYNC2xx findings: {ov.also_ours:,} also ours, "
            f"{len(ov.missed):,} missed   (code total/also-ours: {per_code})"
        )
        for f in ov.missed[:show_missed]:
            print(f"      missed {f.path}:{f.line} {f.code} {f.message[:90]}")
        if len(ov.missed) > show_missed:
            print(f"      ... {len(ov.missed) - show_missed} more (see --json)")
    only_ours = [f for f in ours.findings if f.loc not in linter_locs]
    n_only_ip = sum(1 for f in only_ours if f.via)
    result["only_ours"] = {"total": len(only_ours), "interprocedural": n_only_ip}
    print(
        f"   only ours (no linter ASYNC2xx at that line): {len(only_ours):,} "
        f"({n_only_ip:,} interprocedural, {len(only_ours) - n_only_ip:,} direct)"
    )
    return result


def print_summary(results: list[dict[str, Any]]) -> None:
    def cell(res: dict[str, Any], tool: str) -> str:
        t = res["tools"].get(tool)
        if not t or not t["available"]:
            return "n/a"
        n2 = sum(n for c, n in t["by_code"].items() if c.startswith(BLOCKING_PREFIX))
        extra = f"/{t['interprocedural']}ip" if tool == OURS else f"/{n2}"
        return f"{t['findings']}{extra} {t['seconds']:.1f}s"

    def ov(res: dict[str, Any], tool: str) -> str:
        o = res["overlap"].get(tool)
        return f"{o['also_ours']}/{o['blocking']}" if o else "n/a"

    print(
        "\n== summary  (ours: findings/interprocedural; linters: all ASYNC/ASYNC2xx; "
        "also-ours: linter ASYNC2xx found by us / total)"
    )
    header = ["name", "files", "lines", OURS, RUFF, FLAKE8, "ruff also-ours", "flake8 also-ours"]
    rows = [
        [
            r["name"],
            f"{r['files']:,}",
            f"{r['lines']:,}",
            cell(r, OURS),
            cell(r, RUFF),
            cell(r, FLAKE8),
            ov(r, RUFF),
            ov(r, FLAKE8),
        ]
        for r in results
    ]
    widths = [max(len(x) for x in col) for col in zip(header, *rows)]
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(x.ljust(w) for x, w in zip(row, widths)))


# --------------------------------------------------------------------------- sampling


def context(root: Path, path: str, line: int, around: int = 2) -> str:
    """The source line (marked ``>``) with ``around`` lines either side."""
    base = root if root.is_dir() else root.parent
    try:
        lines = (base / path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        return f"    (cannot read {path}: {exc})"
    lo, hi = max(1, line - around), min(len(lines), line + around)
    return "\n".join(f"{'>' if n == line else ' '} {n:>5} | {lines[n - 1]}" for n in range(lo, hi + 1))


def write_sample(cb: CodeBase, tool: str, n: int, seed: int) -> None:
    run = cb.runs.get(tool)
    if run is None or not run.available:
        print(f"\n-- sample {cb.name}: {tool} unavailable, nothing to sample")
        return
    pool = sorted(run.findings, key=lambda f: (f.path, f.line, f.col, f.code))
    picked = random.Random(seed).sample(pool, min(n, len(pool)))
    title = f"Sample of {len(picked)}/{len(pool)} {tool} findings in {cb.name} (seed {seed})"
    out = [
        f"# {title}",
        "",
        f"Root: `{cb.root}`",
        "",
        (
            "Mark each one TP (really blocks the event loop when reached from an async route), "
            "FP, or ? (cannot tell)."
        ),
        "",
    ]
    print(f"\n-- {title}")
    for i, f in enumerate(picked, 1):
        head = f"{i}. {f.path}:{f.line}  {f.code}  {f.call or f.message}"
        meta = []
        if f.function:
            meta.append(f"in `{f.function}`")
        if f.confidence:
            meta.append(f"confidence {f.confidence}")
        via = " -> ".join(f.via) if f.via else "(direct)"
        ctx = context(cb.root, f.path, f.line)
        print(f"\n{head}\n   {'; '.join(meta)}\n   via: {via}")
        for ev in f.evidence:
            print(f"   evidence: {ev}")
        print(ctx)
        out += [f"## {head}", ""]
        if meta:
            out += ["- " + "; ".join(meta)]
        out += [f"- via: {via}"] + [f"- evidence: {ev}" for ev in f.evidence]
        out += ["- verdict: [ ] TP  [ ] FP  [ ] ?", "", "```", ctx, "```", ""]
        if f.sink and f.sink != f.loc:
            sink_ctx = context(cb.root, *f.sink)
            print(f"   blocking call at {f.sink[0]}:{f.sink[1]}:\n{sink_ctx}")
            out += [f"Blocking call at `{f.sink[0]}:{f.sink[1]}`:", "", "```", sink_ctx, "```", ""]
    SAMPLES_DIR.mkdir(parents=True, exist_ok=True)
    suffix = "" if tool == OURS else f".{tool}"
    dest = SAMPLES_DIR / f"{cb.name}{suffix}.md"
    dest.write_text("\n".join(out) + "\n", encoding="utf-8")
    print(f"\n-- written {dest}")


# --------------------------------------------------------------------------- main


def code_bases(paths: list[str], set_name: str) -> list[CodeBase]:
    targets: list[tuple[str, Path]]
    if paths:
        targets = [(Path(p).resolve().name.removesuffix(".py"), Path(p).resolve()) for p in paths]
        missing = [str(p) for _, p in targets if not p.exists()]
        if missing:
            sys.exit(f"no such path: {', '.join(missing)}")
    else:
        found = corpus.corpus_dirs(set_name)
        if not found:
            sys.exit(f"no corpus downloaded: run `python benchmarks/corpus.py --set {set_name}` first")
        targets = [(pkg.dirname, d) for pkg, d in found]
    out = []
    for name, root in targets:
        files = python_files(root)
        out.append(CodeBase(name, root, files, count_lines(files)))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("paths", nargs="*", help="code bases (dirs or files); default: the --set corpus")
    ap.add_argument(
        "--set",
        default="apps",
        choices=sorted(corpus.SETS),
        help="corpus set to use when no paths are given (default: apps)",
    )
    ap.add_argument(
        "--tools",
        default=f"{OURS},{RUFF},{FLAKE8}",
        help="comma-separated subset of: asgi-migrate,ruff,flake8-async",
    )
    ap.add_argument("--asgi-migrate", dest="ours_exe", help="asgi-migrate executable")
    ap.add_argument("--ruff", dest="ruff_exe", help="ruff executable")
    ap.add_argument("--flake8", dest="flake8_exe", help="flake8 executable (with flake8-async)")
    ap.add_argument("--ruff-preview", action="store_true", help="also enable ruff's preview ASYNC rules")
    ap.add_argument(
        "--show-missed",
        type=int,
        default=10,
        metavar="K",
        help="list up to K linter findings we miss per tool (default 10)",
    )
    ap.add_argument(
        "--sample",
        type=int,
        default=0,
        metavar="N",
        help="print N random findings per code base and write .cache/samples/<name>.md",
    )
    ap.add_argument("--seed", type=int, default=0, metavar="S", help="sampling seed (default 0)")
    ap.add_argument(
        "--sample-tool",
        default=OURS,
        choices=(OURS, RUFF, FLAKE8),
        help="whose findings to sample (default: ours)",
    )
    ap.add_argument("--json", type=Path, metavar="PATH", help="also write all results as JSON")
    args = ap.parse_args(argv)

    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    bad = set(tools) - {OURS, RUFF, FLAKE8}
    if bad:
        ap.error(f"unknown tools: {', '.join(sorted(bad))}")
    exes = {
        OURS: find_tool("asgi-migrate", args.ours_exe),
        RUFF: find_tool("ruff", args.ruff_exe),
        FLAKE8: find_tool("flake8", args.flake8_exe),
    }

    results = []
    for cb in code_bases(args.paths, args.set):
        if OURS in tools:
            cb.runs[OURS] = run_ours(exes[OURS], cb)
        if RUFF in tools:
            cb.runs[RUFF] = run_ruff(exes[RUFF], cb, args.ruff_preview)
        if FLAKE8 in tools:
            cb.runs[FLAKE8] = run_flake8(exes[FLAKE8], cb)
        results.append(report(cb, args.show_missed))
        if args.sample > 0:
            write_sample(cb, args.sample_tool, args.sample, args.seed)
        if args.json:
            results[-1]["findings"] = {t: [asdict(f) for f in r.findings] for t, r in cb.runs.items()}
    print_summary(results)
    print("\ntools: " + ", ".join(f"{t}={exes[t] or 'missing'}" for t in tools))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1) + "\n")
        print(f"results: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

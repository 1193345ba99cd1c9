#!/usr/bin/env python3
"""Scan speed: ``asgi-migrate scan`` (cold, warm, one file touched / edited) against ruff and flake8-async.

Builds a work dir ``.cache/bench/<corpus names>/`` holding a copy of the chosen corpus entries under
``src/`` and its own ``pyproject.toml`` (so the scanner's project root, and its
``.asgi-migrate-cache/``, is the work dir and not this repository), then runs, in one process tree and
alternating between tools, ``--repeat`` times:

* ``scan cold``: ``.asgi-migrate-cache/`` deleted, then
  ``asgi-migrate scan src --format json -o OUT --exit-zero -j JOBS`` (this run writes the caches);
* ``scan warm``: the same again, nothing changed;
* ``scan, 1 file touched``: ``os.utime`` on one file (content unchanged);
* ``scan, 1 file edited``: one comment line appended to that file (restored afterwards);
* ``scan, largest file edited``: the same on the largest file (the worst case for one edit);
* ``ruff cold``: ``ruff check --isolated --select ASYNC --no-cache --exit-zero FILES``;
* ``ruff warm``: the same with ``--cache-dir WORK/.ruff_cache`` instead of ``--no-cache``, run twice
  (cache deleted first), the second run timed;
* ``flake8-async``: ``flake8 --isolated --select ASYNC -j JOBS`` on a random sample of
  ``--flake8-sample`` files, extrapolated to the whole corpus by lines (``--flake8-sample 0``: all files);
* ``offload dry run``: ``asgi-migrate offload src -j JOBS`` (a diff on stdout, exit 1 expected), run after
  the scan steps, so with the summary cache warm;
* ``native dry run``: ``asgi-migrate native src -j JOBS`` when ``asgi-migrate native --help`` exits 0,
  else n/a.

Every tool gets the same files: every ``.py`` file of the copy. The work dir's ``pyproject.toml`` sets the
scanner's ``exclude`` to the cache folders only (its default also skips tests, migrations, build...), and
ruff / flake8 get the file list explicitly. "Cold" means the tools' own caches are empty; the files are in
the OS page cache (they were just copied or read).

Memory: ``peak RSS`` is ``ru_maxrss`` from ``os.wait4`` on the tool's process, which Linux reports as the
largest resident set of any single process in its tree (the process itself and the worker processes it
waited for), the same figure as ``/usr/bin/time -f %M``. It is not a sum. ``tree PSS`` is a sampled
(every ``--poll`` s) sum of the proportional set size (``/proc/PID/smaps_rollup``; RSS when not readable)
over the whole process tree: shared pages are counted once, short peaks between two samples are missed.

Usage, from the repository root, after ``python benchmarks/corpus.py --set large``::

    python benchmarks/scan_speed.py                        # litellm (1.07M lines), --repeat 3
    python benchmarks/scan_speed.py --repeat 1 --json .cache/scan_speed.json
    python benchmarks/scan_speed.py --corpus homeassistant --corpus django --skip-flake8

Stdlib only (Python 3.10+), Linux (``/proc``). Tools are looked up in ``.venv/bin`` first, then on PATH.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import corpus  # sibling module: a script's own directory is on sys.path

REPO_ROOT = corpus.REPO_ROOT
VENV_BIN = REPO_ROOT / ".venv" / "bin"
BENCH_DIR = REPO_ROOT / ".cache" / "bench"
SCAN_CACHE = ".asgi-migrate-cache"
RUFF_CACHE = ".ruff_cache"
COPY_MARK = ".bench-copy.json"
PYPROJECT = """\
# written by benchmarks/scan_speed.py: makes this folder the scanner's project root
[tool.asgi-migrate]
# scan every .py file, like ruff and flake8 given the file list (the default also skips tests, build...)
exclude = [".asgi-migrate-cache", ".ruff_cache", "__pycache__", "out"]
"""
PAGE = os.sysconf("SC_PAGE_SIZE")
STEP_TIMEOUT: float | None = None  # --timeout: a step still running after this is killed (its process group)


# --------------------------------------------------------------------------- measuring


class TreeMemory(threading.Thread):
    """Polls the process tree under ``pid`` and keeps the largest sum of PSS (RSS as a fallback)."""

    def __init__(self, pid: int, interval: float):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak = 0  # bytes
        self.samples = 0
        self._halt = threading.Event()

    @staticmethod
    def _children(pid: int) -> list[int]:
        out: list[int] = []
        try:
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/children") as fh:
                    out += [int(x) for x in fh.read().split()]
        except OSError:
            pass
        return out

    @staticmethod
    def _memory(pid: int) -> int:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Pss:"):
                        return int(line.split()[1]) * 1024
        except (OSError, ValueError, IndexError):
            pass
        try:
            with open(f"/proc/{pid}/statm") as fh:
                return int(fh.read().split()[1]) * PAGE
        except (OSError, ValueError, IndexError):
            return 0

    def sample(self) -> None:
        total, todo, seen = 0, [self.pid], set()
        while todo:
            pid = todo.pop()
            if pid in seen:
                continue
            seen.add(pid)
            total += self._memory(pid)
            todo += self._children(pid)
        self.peak = max(self.peak, total)
        self.samples += 1

    def run(self) -> None:
        while not self._halt.is_set():
            self.sample()
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()


@dataclass
class Run:
    step: str
    rep: int
    command: list[str]
    wall: float  # seconds
    cpu: float  # user + system seconds of the whole tree
    maxrss: int  # bytes: the largest single process of the tree
    tree_pss: int  # bytes: sampled peak of the tree's summed PSS
    exit: int
    stderr_tail: str = ""
    load: float = 0.0  # 1-minute load average when the run started (other work on the machine)
    timed_out: bool = False  # killed after --timeout seconds: wall is a lower bound


def measure(step: str, rep: int, cmd: list[str], cwd: Path, poll: float, stdout_path: Path | None = None,
            ok_exits: tuple[int, ...] = (0,)) -> Run:
    """Run ``cmd`` and take its wall time, CPU time, peak RSS (``wait4``) and sampled tree PSS."""
    err_path = cwd / "out" / f"{step.replace(' ', '_').replace(',', '')}.stderr"
    err_path.parent.mkdir(exist_ok=True)
    load = os.getloadavg()[0]
    with contextlib.ExitStack() as files:
        out = files.enter_context(open(stdout_path, "wb")) if stdout_path else subprocess.DEVNULL
        err = files.enter_context(open(err_path, "wb"))
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, start_new_session=True)
        mon = TreeMemory(proc.pid, poll)
        mon.start()
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            try:
                os.killpg(proc.pid, 9)  # the tool and its workers: a session of their own
            except OSError:
                pass

        timer = threading.Timer(STEP_TIMEOUT, kill) if STEP_TIMEOUT else None
        if timer:
            timer.daemon = True
            timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        if timer:
            timer.cancel()
        wall = time.perf_counter() - t0
        mon.stop()
        proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped: keep Popen from waiting
    stderr = err_path.read_text(errors="replace").strip()
    run = Run(step, rep, cmd, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, mon.peak,
              proc.returncode, " | ".join(stderr.splitlines()[-3:])[:300], load, killed.is_set())
    if run.timed_out:
        print(f"   ! {step}: killed after --timeout {STEP_TIMEOUT:g}s", file=sys.stderr)
        try:
            os.killpg(proc.pid, 9)  # workers orphaned by the kill
        except OSError:
            pass
    elif proc.returncode not in ok_exits:
        print(f"   ! {step}: exit {proc.returncode}: {run.stderr_tail}", file=sys.stderr)
    return run


# --------------------------------------------------------------------------- work dir


def find_tool(name: str) -> str | None:
    local = VENV_BIN / name
    return str(local) if local.exists() else shutil.which(name)


def pick_corpus(names: list[str], min_lines: int) -> list[tuple[corpus.Package, Path]]:
    available = corpus.corpus_dirs("all")
    if names:
        chosen = []
        for name in names:
            match = [(p, d) for p, d in available if name in (p.name, p.dirname)]
            if not match:
                have = ", ".join(p.dirname for p, _ in available) or "none"
                sys.exit(f"corpus entry {name!r} not downloaded (have: {have}); "
                         f"run `python benchmarks/corpus.py --set large`")
            chosen.append(match[0])
        return chosen
    chosen, lines = [], 0
    large = [(p, d) for p, d in available if p in corpus.LARGE]
    for pkg, d in large:
        if lines >= min_lines:
            break
        chosen.append((pkg, d))
        lines += corpus.read_manifest(d)["lines"]
    if not chosen:
        sys.exit("no large corpus downloaded: run `python benchmarks/corpus.py --set large`")
    if lines < min_lines:
        print(f"warning: only {lines:,} lines downloaded (< --min-lines {min_lines:,})", file=sys.stderr)
    return chosen


def build_workdir(chosen: list[tuple[corpus.Package, Path]]) -> Path:
    """``.cache/bench/<names>/`` with pyproject.toml and ``src/<name-version>/`` copies (made once)."""
    work = BENCH_DIR / "+".join(p.dirname for p, _ in chosen)
    src = work / "src"
    src.mkdir(parents=True, exist_ok=True)
    (work / "pyproject.toml").write_text(PYPROJECT)
    for pkg, source in chosen:
        target = src / pkg.dirname
        want = corpus.read_manifest(source)
        try:
            have = json.loads((target / COPY_MARK).read_text())
        except (OSError, ValueError):
            have = None
        if have == want:
            continue
        print(f"[bench] copying {source} -> {target}", flush=True)
        if target.exists():
            shutil.rmtree(target)
        # The scanner does not follow symlinked folders: real copies.
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        (target / COPY_MARK).write_text(json.dumps(want))
    for stale in src.iterdir():  # entries left from an earlier choice under the same name cannot exist,
        if stale.is_dir() and stale.name not in {p.dirname for p, _ in chosen}:  # but be safe
            shutil.rmtree(stale)
    return work


def python_files(src: Path) -> list[Path]:
    return sorted(p for p in src.rglob("*.py") if "__pycache__" not in p.parts and p.is_file())


def argv_budget() -> int:
    try:
        return max(100_000, os.sysconf("SC_ARG_MAX") // 2)
    except (ValueError, OSError):
        return 100_000


# --------------------------------------------------------------------------- machine


def machine() -> dict:
    info: dict = {"nproc": os.cpu_count()}
    try:
        info["usable_cpus"] = len(os.sched_getaffinity(0))
    except AttributeError:
        pass
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota != "max":
            info["cgroup_cpus"] = round(int(quota) / int(period), 2)
    except (OSError, ValueError):
        pass
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["memory_gb"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    info["kernel"] = platform.release()
    return info


def version_of(cmd: list[str]) -> str:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return " ".join((proc.stdout or proc.stderr).split())[:120]


# --------------------------------------------------------------------------- the benchmark


@dataclass
class Plan:
    work: Path
    files: list[Path]
    lines: int
    per_file_lines: dict[Path, int]
    jobs: int
    poll: float
    ours: str
    ruff: str | None
    flake8: str | None
    flake8_files: list[Path] = field(default_factory=list)
    flake8_lines: int = 0
    native: bool = False
    phases: bool = True  # offload/native dry runs (--skip-phases: scan and linters only)
    touch_file: Path | None = None
    largest_file: Path | None = None


def rel(plan: Plan, files: list[Path]) -> list[str]:
    return [str(p.relative_to(plan.work)) for p in files]


def chunked(cmd: list[str], files: list[str]) -> list[list[str]]:
    budget = argv_budget() - sum(len(c) + 1 for c in cmd)
    chunks: list[list[str]] = [[]]
    size = 0
    for f in files:
        if chunks[-1] and size + len(f) + 1 > budget:
            chunks.append([])
            size = 0
        chunks[-1].append(f)
        size += len(f) + 1
    return [cmd + c for c in chunks]


def run_linter(step: str, rep: int, plan: Plan, cmd: list[str], files: list[Path], ok: tuple[int, ...]) -> Run:
    """One linter over ``files`` (several argv chunks only if the list is longer than the OS allows)."""
    runs = [measure(step, rep, c, plan.work, plan.poll, ok_exits=ok) for c in chunked(cmd, rel(plan, files))]
    if len(runs) == 1:
        return runs[0]
    return Run(step, rep, cmd + [f"<{len(files)} files in {len(runs)} runs>"], sum(r.wall for r in runs),
               sum(r.cpu for r in runs), max(r.maxrss for r in runs), max(r.tree_pss for r in runs),
               max(r.exit for r in runs), runs[-1].stderr_tail, runs[0].load)


def scan_cmd(plan: Plan, out: Path) -> list[str]:
    return [plan.ours, "scan", "src", "--format", "json", "-o", str(out), "--exit-zero", "-j", str(plan.jobs)]


def edit_and_scan(step: str, rep: int, plan: Plan, path: Path, out: Path) -> Run:
    original = path.read_bytes()
    st = path.stat()
    try:
        path.write_bytes(original + b"\n# edited by benchmarks/scan_speed.py\n")
        return measure(step, rep, scan_cmd(plan, out), plan.work, plan.poll)
    finally:
        path.write_bytes(original)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def one_round(rep: int, plan: Plan, skip_flake8: bool) -> tuple[list[Run], dict]:
    """One pass over every step, tools interleaved. Returns the runs and what the outputs said."""
    work, runs, notes = plan.work, [], {}
    out_dir = work / "out"
    out_dir.mkdir(exist_ok=True)

    def say(run: Run) -> Run:
        print(f"   {run.step:<28} {run.wall:8.2f}s  cpu {run.cpu:7.2f}s  peak RSS {run.maxrss / 2**20:7.0f} MB  "
              f"tree PSS {run.tree_pss / 2**20:7.0f} MB  exit {run.exit}  load {run.load:.1f}", flush=True)
        runs.append(run)
        return run

    shutil.rmtree(work / SCAN_CACHE, ignore_errors=True)
    cold_json = out_dir / "scan-cold.json"
    cold_json.unlink(missing_ok=True)
    say(measure("scan cold", rep, scan_cmd(plan, cold_json), work, plan.poll))
    try:
        notes["scan_summary"] = json.loads(cold_json.read_text())["summary"]
    except (OSError, ValueError, KeyError):
        notes["scan_summary"] = None

    ruff_base = [plan.ruff or "ruff", "check", "--isolated", "--select", "ASYNC", "--output-format", "json",
                 "--exit-zero"]
    if plan.ruff:
        say(run_linter("ruff cold", rep, plan, ruff_base + ["--no-cache"], plan.files, (0,)))

    say(measure("scan warm", rep, scan_cmd(plan, out_dir / "scan-warm.json"), work, plan.poll))

    if plan.ruff:
        shutil.rmtree(work / RUFF_CACHE, ignore_errors=True)
        warm = ruff_base + ["--cache-dir", str(work / RUFF_CACHE)]
        run_linter("ruff fill cache", rep, plan, warm, plan.files, (0,))  # not reported
        say(run_linter("ruff warm", rep, plan, warm, plan.files, (0,)))

    assert plan.touch_file is not None and plan.largest_file is not None
    os.utime(plan.touch_file)  # content unchanged, mtime now
    say(measure("scan, 1 file touched", rep, scan_cmd(plan, out_dir / "scan-touch.json"), work, plan.poll))
    say(edit_and_scan("scan, 1 file edited", rep, plan, plan.touch_file, out_dir / "scan-edit.json"))
    say(edit_and_scan("scan, largest file edited", rep, plan, plan.largest_file, out_dir / "scan-edit-large.json"))

    if plan.flake8 and not skip_flake8:
        cmd = [plan.flake8, "--isolated", "--select", "ASYNC", "-j", str(plan.jobs)]
        if plan.flake8_lines < plan.lines:  # start-up (plugin loading), not extrapolated by lines
            empty = out_dir / "empty.py"
            empty.write_text("")
            say(measure("flake8-async start-up", rep, cmd + [str(empty)], work, plan.poll, ok_exits=(0, 1)))
        say(run_linter("flake8-async", rep, plan, cmd, plan.flake8_files, (0, 1)))

    if not plan.phases:
        return runs, notes
    offload_out = out_dir / "offload.diff"
    say(measure("offload dry run", rep, [plan.ours, "offload", "src", "-j", str(plan.jobs)], work, plan.poll,
                stdout_path=offload_out, ok_exits=(0, 1)))
    notes["offload_summary"] = _phase_summary(out_dir / "offload_dry_run.stderr")
    if plan.native:
        say(measure("native dry run", rep, [plan.ours, "native", "src", "-j", str(plan.jobs)], work, plan.poll,
                    stdout_path=out_dir / "native.diff", ok_exits=(0, 1)))
        notes["native_summary"] = _phase_summary(out_dir / "native_dry_run.stderr")
    return runs, notes


def _phase_summary(stderr: Path) -> str:
    try:
        for line in stderr.read_text(errors="replace").splitlines():
            if "would rewrite" in line or "rewrote" in line:
                return line.strip()
    except OSError:
        pass
    return ""


# --------------------------------------------------------------------------- report


ORDER = ["scan cold", "scan warm", "scan, 1 file touched", "scan, 1 file edited", "scan, largest file edited",
         "ruff cold", "ruff warm", "flake8-async", "offload dry run", "native dry run"]


def medians(runs: list[Run]) -> dict[str, dict]:
    by_step: dict[str, list[Run]] = {}
    for r in runs:
        by_step.setdefault(r.step, []).append(r)
    out = {}
    for step, rs in by_step.items():
        out[step] = {
            "wall": statistics.median(r.wall for r in rs),
            "cpu": statistics.median(r.cpu for r in rs),
            "maxrss": max(r.maxrss for r in rs),
            "tree_pss": max(r.tree_pss for r in rs),
            "n": len(rs),
            "walls": [round(r.wall, 3) for r in rs],
            "load": statistics.median(r.load for r in rs),
            "exits": sorted({r.exit for r in rs}),
            "timed_out": any(r.timed_out for r in rs),
        }
    return out


def flake8_wall(plan: Plan, med: dict[str, dict]) -> float | None:
    """flake8-async's wall time for the whole corpus: measured, or start-up + per-line time of the sample."""
    m = med.get("flake8-async")
    if m is None:
        return None
    if plan.flake8_lines >= plan.lines:
        return m["wall"]
    startup = min(med.get("flake8-async start-up", {}).get("wall", 0.0), m["wall"])
    return startup + (m["wall"] - startup) * plan.lines / plan.flake8_lines


def table(plan: Plan, med: dict[str, dict], skip_flake8: bool) -> tuple[list[str], list[list[str]]]:
    ruff_cold = med.get("ruff cold", {}).get("wall")
    ruff_warm = med.get("ruff warm", {}).get("wall")
    header = ["step", "wall s", "lines/s", "CPU s", "peak RSS MB", "tree PSS MB", "vs ruff"]
    rows = []
    for step in ORDER:
        m = med.get(step)
        if m is None:
            if step in ("offload dry run", "native dry run") and not plan.phases:
                rows.append([f"{step} (--skip-phases)", "n/a", "", "", "", "", ""])
            elif step == "native dry run" and not plan.native:
                rows.append([f"{step} (no `native` command)", "n/a", "", "", "", "", ""])
            elif step == "flake8-async" and (skip_flake8 or not plan.flake8):
                rows.append([f"{step} ({'--skip-flake8' if skip_flake8 else 'not installed'})", "n/a", "", "", "",
                             "", ""])
            continue
        wall, label, note = m["wall"], step, ""
        if step == "flake8-async" and plan.flake8_lines < plan.lines:
            label = (f"flake8-async, EXTRAPOLATED from {len(plan.flake8_files)} files / "
                     f"{plan.flake8_lines:,} lines")
            wall = flake8_wall(plan, med) or wall
        base = ruff_cold if step in ("scan cold", "flake8-async", "offload dry run", "native dry run") else ruff_warm
        if step in ("ruff cold", "ruff warm"):
            note = "1.0x"
        elif base:
            note = (">" if m.get("timed_out") else "") + \
                f"{wall / base:.1f}x ruff {'cold' if base is ruff_cold else 'warm'}"
        cpu = f"{m['cpu']:.2f}" if wall == m["wall"] else f"({m['cpu']:.2f})"
        pss = f"{m['tree_pss'] / 2**20:,.0f}" if m["tree_pss"] else "-"
        if m.get("timed_out"):
            label += f" (killed after --timeout {STEP_TIMEOUT:g}s: a lower bound)"
        rows.append([label, (">" if m.get("timed_out") else "") + f"{wall:.2f}",
                     ("<" if m.get("timed_out") else "") + f"{plan.lines / wall:,.0f}", cpu,
                     f"{m['maxrss'] / 2**20:,.0f}", pss, note])
    return header, rows


def render(header: list[str], rows: list[list[str]], markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(x) for x in col) for col in zip(header, *rows)]
    return "\n".join("  ".join(x.ljust(w) for x, w in zip(row, widths)).rstrip()
                     for row in [header, ["-" * w for w in widths], *rows])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", action="append", default=[], metavar="NAME",
                    help="corpus entry (package name or name-version; repeatable). "
                         "Default: --set large entries in order until --min-lines")
    ap.add_argument("--min-lines", type=int, default=1_000_000, help="default: 1000000")
    ap.add_argument("--repeat", type=int, default=3, help="rounds; medians are reported (default 3)")
    ap.add_argument("--jobs", "-j", type=int, default=2, help="--jobs for the scanner and flake8 (default 2)")
    ap.add_argument("--skip-flake8", action="store_true", help="do not run flake8-async")
    ap.add_argument("--flake8-sample", type=int, default=300, metavar="N",
                    help="run flake8-async on N random files and extrapolate by lines (0: all files; default 300)")
    ap.add_argument("--seed", type=int, default=0, help="seed for the flake8 sample and the touched file")
    ap.add_argument("--touch-file", metavar="REL", help="file (relative to the work dir's src/) to touch and edit")
    ap.add_argument("--poll", type=float, default=0.25, help="tree PSS sampling interval, s (default 0.25)")
    ap.add_argument("--timeout", type=float, default=1800, metavar="S",
                    help="kill a step still running after S seconds and report >S (default 1800; 0: never)")
    ap.add_argument("--skip-phases", action="store_true", help="no offload/native dry runs (scan and linters only)")
    ap.add_argument("--json", type=Path, metavar="OUT", help="write every run and the medians as JSON")
    ap.add_argument("--markdown", action="store_true", help="also print the table as markdown")
    args = ap.parse_args(argv)
    if args.repeat < 1:
        ap.error("--repeat must be >= 1")
    global STEP_TIMEOUT
    STEP_TIMEOUT = args.timeout or None

    ours = find_tool("asgi-migrate")
    if ours is None:
        sys.exit("asgi-migrate not found (.venv/bin or PATH)")
    flake8 = find_tool("flake8")
    if flake8 and "flake8-async" not in version_of([flake8, "--version"]).replace("_", "-"):
        flake8 = None

    chosen = pick_corpus(args.corpus, args.min_lines)
    work = build_workdir(chosen)
    files = python_files(work / "src")
    per_file = {p: corpus.count_lines(p.read_bytes()) for p in files}
    lines = sum(per_file.values())
    rng = random.Random(args.seed)
    if args.touch_file:
        touch = work / "src" / args.touch_file
        if touch not in per_file:
            sys.exit(f"--touch-file: {touch} is not one of the corpus .py files")
    else:  # a random file of ordinary size (between the median and the 90th percentile of lines)
        by_size = sorted(files, key=lambda p: (per_file[p], str(p)))
        touch = rng.choice(by_size[len(by_size) // 2: max(len(by_size) // 2 + 1, len(by_size) * 9 // 10)])
    largest = max(files, key=lambda p: (per_file[p], str(p)))
    f8_files = files if args.flake8_sample <= 0 or args.flake8_sample >= len(files) else \
        sorted(rng.sample(files, args.flake8_sample))
    native = subprocess.run([ours, "native", "--help"], capture_output=True, check=False).returncode == 0
    plan = Plan(work, files, lines, per_file, args.jobs, args.poll, ours, find_tool("ruff"), flake8,
                f8_files, sum(per_file[p] for p in f8_files), native, not args.skip_phases, touch, largest)

    info = machine()
    info["python"] = platform.python_version()
    versions = {"asgi-migrate": version_of([ours, "--version"]),
                "ruff": version_of([plan.ruff, "--version"]) if plan.ruff else "missing",
                "flake8": version_of([flake8, "--version"]) if flake8 else "missing (or no flake8-async)",
                "scanner python": version_of([str(Path(ours).parent / "python"), "--version"])
                if (Path(ours).parent / "python").exists() else "?"}
    corpus_names = ", ".join(p.dirname for p, _ in chosen)
    print(f"[bench] work dir {work}")
    print(f"[bench] corpus {corpus_names}: {len(files):,} files, {lines:,} lines")
    print(f"[bench] touched/edited file: src/{touch.relative_to(work / 'src')} ({per_file[touch]:,} lines); "
          f"largest: src/{largest.relative_to(work / 'src')} ({per_file[largest]:,} lines)")
    if flake8 and not args.skip_flake8:
        print(f"[bench] flake8-async on {len(f8_files):,} files, {plan.flake8_lines:,} lines")

    all_runs: list[Run] = []
    notes: dict = {}
    started = datetime.now(timezone.utc)
    for rep in range(1, args.repeat + 1):
        print(f"[bench] round {rep}/{args.repeat}", flush=True)
        runs, notes = one_round(rep, plan, args.skip_flake8)
        all_runs += runs

    med = medians(all_runs)
    header, rows = table(plan, med, args.skip_flake8)
    print()
    print(f"Scan speed: {corpus_names}, {len(files):,} files, {lines:,} lines; --jobs {args.jobs}; "
          f"median of {args.repeat} round(s); {started:%Y-%m-%d}")
    print(render(header, rows, markdown=False))
    if args.markdown:
        print()
        print(render(header, rows, markdown=True))
    s = notes.get("scan_summary") or {}
    if s:
        print(f"\nscanner's own count: {s.get('files', '?'):,} files, {s.get('analysed', '?'):,} analysed, "
              f"{s.get('lines', '?'):,} lines, {s.get('findings', '?'):,} findings "
              f"({s.get('interprocedural', '?'):,} interprocedural), {len(s.get('skipped') or []):,} skipped")
    if notes.get("offload_summary"):
        print(f"offload dry run: {notes['offload_summary']}")
    if notes.get("native_summary"):
        print(f"native dry run: {notes['native_summary']}")
    cold, warm = med.get("scan cold"), med.get("scan warm")
    rc, rw = med.get("ruff cold"), med.get("ruff warm")
    ratios = []
    if cold and rc:
        ratios.append(f"scan cold / ruff cold = {cold['wall'] / rc['wall']:.1f}")
    if warm and rw:
        ratios.append(f"scan warm / ruff warm = {warm['wall'] / rw['wall']:.1f}")
    f8_wall = flake8_wall(plan, med)
    if f8_wall and cold:
        ratios.append(f"flake8-async{' (extrapolated)' if plan.flake8_lines < lines else ''} / scan cold = "
                      f"{f8_wall / cold['wall']:.1f}")
    if ratios:
        print("ratios: " + "; ".join(ratios))
    cpus = info.get("cgroup_cpus", info.get("usable_cpus", info["nproc"]))
    print(f"machine: {info['nproc']} CPUs (usable {cpus}), {info.get('cpu', '?')}, "
          f"{info.get('memory_gb', '?')} GB RAM, Linux {info['kernel']}, Python {info['python']}")
    print("tools: " + "; ".join(f"{k} {v}" for k, v in versions.items()))
    loads = [r.load for r in all_runs]
    print(f"1-min load average at the start of the runs: min {min(loads):.1f}, median {statistics.median(loads):.1f}, "
          f"max {max(loads):.1f} (other work on the {cpus} CPUs inflates wall times, not CPU s)")
    if args.flake8_sample and plan.flake8_lines < lines and "flake8-async" in med:
        print(f"flake8-async sample: {len(f8_files)} files, {plan.flake8_lines:,} lines, "
              f"{med['flake8-async']['wall']:.2f}s measured (CPU s in parentheses is the sample's); whole corpus = "
              f"start-up {med.get('flake8-async start-up', {}).get('wall', 0):.2f}s + the rest scaled by lines")
    print("peak RSS = largest single process of the tool's tree (wait4 ru_maxrss, like /usr/bin/time %M); "
          f"tree PSS = sum over the tree, sampled every {args.poll} s.")

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "date": started.isoformat(timespec="seconds"),
            "corpus": [p.dirname for p, _ in chosen],
            "work": str(work),
            "files": len(files),
            "lines": lines,
            "jobs": args.jobs,
            "repeat": args.repeat,
            "touch_file": str(touch.relative_to(work)),
            "largest_file": str(largest.relative_to(work)),
            "flake8_sample": {"files": len(f8_files), "lines": plan.flake8_lines},
            "machine": info,
            "versions": versions,
            "medians": med,
            "table": {"header": header, "rows": rows},
            "notes": notes,
            "runs": [asdict(r) for r in all_runs],
        }, indent=1) + "\n")
        print(f"results: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Timing of ``asgi-migrate branches``: 50 branches on a generated repository of 2,000 Python files.

    python benchmarks/branches_timing.py [--packages 50] [--modules 40] [--runs 3] [--keep DIR] [--json OUT]

It builds a throwaway git repository (``--packages`` packages of ``--modules`` modules each; in every
package two modules have ``async def`` handlers with blocking calls, one through a sync helper in a third
module), then times, in-process, with the scan and the git work measured apart:

1. a first run (``--by package``: one branch per package, so 50 branches);
2. a re-run on the same base (every branch ``unchanged``: the idempotency path);
3. a run after the base moved (every branch ``updated``: our own commits are replaced);
4. ``--stack`` into a second prefix (each branch on the previous one).

"git per branch" is the time spent building commits and moving refs divided by the branches: the figure
to compare with the issue's 600 ms (``git worktree add``), 33 ms (GitPython ``IndexFile.from_tree``),
15-20 ms (plumbing on a temporary index) and 2 ms (one ``fast-import``). Each timed run is checked to
leave ``.git/index``, ``HEAD`` and the working tree byte-identical. Needs only git and this package.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from asgi_migrate.cli import branches

HANDLER = """\
import json
import time

from {pkg}.helpers import slow_lookup


async def handle_{i}(path: str) -> dict:
    time.sleep(0.01)
    with open(path) as fh:
        data = json.load(fh)
    data["x"] = slow_lookup(path)
    return data
"""
HELPERS = """\
import time


def slow_lookup(key: str) -> str:
    time.sleep(0.1)
    return key
"""
PLAIN = """\
def value_{i}(x: int) -> int:
    return x * {i}


class Thing{i}:
    def __init__(self) -> None:
        self.items = [value_{i}(n) for n in range(3)]
"""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def make_repo(root: Path, packages: int, modules: int) -> int:
    """The repository; returns the number of .py files."""
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'bench'\n")
    count = 0
    for p in range(packages):
        pkg = root / "app" / f"pkg{p:03d}"
        pkg.mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "helpers.py").write_text(HELPERS)
        count += 2
        for m in range(modules - 2):
            name = f"handlers{m}.py" if m < 2 else f"mod{m:03d}.py"
            template = HANDLER if m < 2 else PLAIN
            (pkg / name).write_text(template.format(pkg=f"app.pkg{p:03d}", i=m))
            count += 1
    (root / "app" / "__init__.py").write_text("")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    return count + 1


def fingerprint(repo: Path) -> str:
    h = hashlib.sha256()
    for name in ("index", "HEAD"):
        h.update((repo / ".git" / name).read_bytes())
    status = subprocess.run(["git", "status", "--porcelain"], cwd=repo, check=True, capture_output=True,
                            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"})  # a plain status rewrites the index
    h.update(status.stdout)
    return h.hexdigest()


class Timer:
    """Wraps the module's two stages so the scan and the git work are timed apart."""

    def __init__(self) -> None:
        self.plan = self.write = 0.0
        self._plan, self._write = branches._plan, branches._write

    def __enter__(self) -> Timer:
        def plan(*a, **k):
            t = time.perf_counter()
            try:
                return self._plan(*a, **k)
            finally:
                self.plan += time.perf_counter() - t

        def write(*a, **k):
            t = time.perf_counter()
            try:
                return self._write(*a, **k)
            finally:
                self.write += time.perf_counter() - t

        branches._plan, branches._write = plan, write
        return self

    def __exit__(self, *exc) -> None:
        branches._plan, branches._write = self._plan, self._write


def timed(repo: Path, label: str, **options) -> dict:
    before = fingerprint(repo)
    start = time.perf_counter()
    with Timer() as t:
        report = branches.run(branches.Options("offload", [repo], **options))
    total = time.perf_counter() - start
    assert fingerprint(repo) == before, "the user's index, HEAD or working tree changed"
    statuses: dict[str, int] = {}
    for o in report.outcomes:
        statuses[o.status] = statuses.get(o.status, 0) + 1
    n = len(report.outcomes)
    return {"run": label, "branches": n, "statuses": statuses, "total_s": round(total, 3),
            "scan_and_plan_s": round(t.plan, 3), "git_s": round(t.write, 3),
            "git_ms_per_branch": round(1000 * t.write / max(n, 1), 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--packages", type=int, default=50)
    ap.add_argument("--modules", type=int, default=40, help="modules per package (2,000 files in all by default)")
    ap.add_argument("--runs", type=int, default=3, help="repeat the first run on fresh prefixes, report the median")
    ap.add_argument("--keep", type=Path, help="build the repository here and keep it")
    ap.add_argument("--json", type=Path, help="write the rows as JSON")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="asgi-migrate-bench-"))
    repo = args.keep or tmp / "repo"
    try:
        files = make_repo(repo, args.packages, args.modules)
        os.chdir(repo)
        firsts = [timed(repo, "first run", prefix=f"bench{i}/", batch_size=10) for i in range(args.runs)]
        first = sorted(firsts, key=lambda r: r["total_s"])[len(firsts) // 2]
        rows = [first, timed(repo, "re-run (same base)", prefix="bench0/", batch_size=10)]
        (repo / "README.md").write_text("moved\n")
        git(repo, "add", "README.md")
        git(repo, "commit", "-qm", "base moves on")
        rows.append(timed(repo, "re-run (base moved)", prefix="bench0/", batch_size=10))
        rows.append(timed(repo, "--stack", prefix="stacked/", batch_size=10, stack=True))
        print(f"repository: {files} .py files, {args.packages} packages; git {git(repo, 'version').split()[-1]}, "
              f"Python {platform.python_version()}, {platform.system()} {platform.machine()}, "
              f"{os.cpu_count()} cores")
        header = (f"{'run':<22} {'branches':>8} {'total s':>8} {'scan+plan s':>11} {'git s':>7} "
                  f"{'git ms/branch':>13}  statuses")
        print(header)
        for r in rows:
            print(f"{r['run']:<22} {r['branches']:>8} {r['total_s']:>8.2f} {r['scan_and_plan_s']:>11.2f} "
                  f"{r['git_s']:>7.2f} {r['git_ms_per_branch']:>13.1f}  {r['statuses']}")
        print(f"first run, median of {args.runs}: " + ", ".join(f"{r['total_s']:.2f}s" for r in firsts))
        if args.json:
            args.json.write_text(json.dumps({"files": files, "rows": rows, "first_runs": firsts}, indent=2))
    finally:
        os.chdir("/")
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python3
"""Download a pinned corpus of real open-source Python code bases from PyPI.

The corpus feeds two kinds of measurement:

* ``--set apps``: a handful of real async web servers (FastAPI / Starlette /
  LangGraph) whose async route handlers call sync code (sync SQLAlchemy
  sessions, ``requests``, file I/O, Django ORM...). Used to measure the
  scanner's precision by hand and to compare it with ruff / flake8-async
  (see ``benchmarks/compare_linters.py``).
* ``--set large``: more than a million lines of async-heavy Python, used for
  performance work on the scanner.

Every entry is pinned to an exact version in the tables below and fetched
with ``pip download --no-deps`` (a wheel when ``kind`` is ``wheel``, an sdist
otherwise). Only ``.py`` files (and ``pyproject.toml``) are extracted, into
the git-ignored cache ``.cache/corpus/<name>-<version>/``. A code base whose
directory already holds its manifest (``.corpus.json``) is skipped, so the
script is idempotent and cheap to re-run.

Usage (from the repository root)::

    python benchmarks/corpus.py --set apps            # download + table
    python benchmarks/corpus.py --set large
    python benchmarks/corpus.py --set all --list      # show the pins only
    python benchmarks/corpus.py --set apps --only chainlit

Stdlib only (pip is run as ``python -m pip``), Python 3.10+.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CACHE = REPO_ROOT / ".cache" / "corpus"
MANIFEST = ".corpus.json"
KEEP_NAMES = frozenset({"pyproject.toml"})


@dataclass(frozen=True)
class Package:
    """One pinned code base."""

    name: str  # PyPI project name
    version: str  # exact pin
    kind: str  # "wheel" or "sdist"
    note: str  # why it is in the corpus

    @property
    def dirname(self) -> str:
        return f"{self.name}-{self.version}"


# Real async servers whose async handlers call sync code. Sizes are the .py
# lines extracted from the pinned wheel (checked when the table was written).
APPS: tuple[Package, ...] = (
    Package(
        "open-webui",
        "0.6.43",
        "wheel",
        "FastAPI; async routes call sync SQLAlchemy model helpers (`with get_db()`), requests, open(). "
        "~68k lines. Last 0.6.x: 0.12.x has moved to AsyncSession.",
    ),
    Package(
        "chainlit",
        "2.12.0",
        "wheel",
        "FastAPI + socket.io server; data layers (DynamoDB/boto3, SQLAlchemy), file I/O in async code. "
        "~17k lines.",
    ),
    Package(
        "khoj",
        "1.42.10",
        "wheel",
        "FastAPI routes over the Django ORM, requests-based processors, file I/O. ~32k lines.",
    ),
    Package(
        "langgraph-api",
        "0.16.7",
        "wheel",
        "LangGraph server (Starlette); async-first, so a low-base-rate control. ~47k lines.",
    ),
)

# Async-heavy code bases for performance work: ~2.66M lines in total.
LARGE: tuple[Package, ...] = (
    Package("litellm", "1.110.2", "wheel", "LLM SDK + FastAPI proxy server. ~1.07M lines."),
    Package("homeassistant", "2024.3.3", "wheel", "asyncio home automation, 6.7k files. ~972k lines."),
    Package("prefect", "3.9.1", "wheel", "async orchestration server + client. ~207k lines."),
    Package("sqlalchemy", "2.1.9", "wheel", "sync + asyncio ORM. ~254k lines."),
    Package("django", "5.2.19", "wheel", "web framework with async views/ORM. ~159k lines."),
)

SETS: dict[str, tuple[Package, ...]] = {"apps": APPS, "large": LARGE, "all": APPS + LARGE}


@dataclass
class Result:
    package: Package
    files: int
    lines: int
    status: str  # "cached", "downloaded", "failed: ..."


def count_lines(data: bytes) -> int:
    """Physical lines, counting a last line without a trailing newline."""
    if not data:
        return 0
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


def _wanted(member: str) -> bool:
    p = PurePosixPath(member)
    if p.is_absolute() or ".." in p.parts or "__pycache__" in p.parts:
        return False
    return p.suffix == ".py" or p.name in KEEP_NAMES


def _strip_top(member: str) -> str | None:
    """sdists have one top-level ``name-version/`` directory: drop it."""
    parts = PurePosixPath(member).parts
    return str(PurePosixPath(*parts[1:])) if len(parts) > 1 else None


def extract(archive: Path, dest: Path) -> tuple[int, int]:
    """Extract .py files (and pyproject.toml) from a wheel or sdist; return (files, lines)."""
    files = lines = 0

    def write(rel: str, data: bytes) -> None:
        nonlocal files, lines
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        if rel.endswith(".py"):
            files += 1
            lines += count_lines(data)

    name = archive.name
    if name.endswith((".whl", ".zip")):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if info.is_dir():
                    continue
                rel = info.filename if name.endswith(".whl") else _strip_top(info.filename)
                if rel and _wanted(rel):
                    write(rel, zf.read(info))
    elif name.endswith((".tar.gz", ".tgz", ".tar.bz2", ".tar")):
        with tarfile.open(archive) as tf:
            for member in tf:
                if not member.isfile():
                    continue
                rel = _strip_top(member.name)
                if rel and _wanted(rel):
                    fh = tf.extractfile(member)
                    if fh is not None:
                        write(rel, fh.read())
    else:
        raise ValueError(f"unknown archive type: {name}")
    return files, lines


def pip_download(pkg: Package, into: Path) -> Path:
    """Fetch exactly ``pkg`` (no dependencies) into ``into`` and return the archive path."""
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--disable-pip-version-check",
        "--quiet",
        "--dest",
        str(into),
    ]
    if pkg.kind == "wheel":
        # We never install: accept a wheel whose Requires-Python excludes this interpreter.
        cmd += ["--only-binary", ":all:", "--ignore-requires-python"]
    else:
        cmd += ["--no-binary", ":all:"]
    cmd.append(f"{pkg.name}=={pkg.version}")
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"pip download failed ({proc.returncode}): {' | '.join(tail)}")
    archives = [p for p in into.iterdir() if p.is_file()]
    if len(archives) != 1:
        raise RuntimeError(f"expected one archive, got {[p.name for p in archives]}")
    return archives[0]


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_manifest(target: Path) -> dict | None:
    try:
        return json.loads((target / MANIFEST).read_text())
    except (OSError, ValueError):
        return None


def fetch(pkg: Package, cache: Path, force: bool = False) -> Result:
    """Download and extract one package unless its manifest is already there."""
    target = cache / pkg.dirname
    manifest = read_manifest(target)
    if manifest and not force:
        return Result(pkg, manifest["files"], manifest["lines"], "cached")
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{pkg.dirname}-", dir=cache) as tmp:
        tmpdir = Path(tmp)
        dl, staging = tmpdir / "dl", tmpdir / "src"
        dl.mkdir()
        staging.mkdir()
        t0 = time.perf_counter()
        try:
            archive = pip_download(pkg, dl)
            files, lines = extract(archive, staging)
        except (RuntimeError, ValueError, OSError, zipfile.BadZipFile, tarfile.TarError) as exc:
            return Result(pkg, 0, 0, f"failed: {exc}")
        (staging / MANIFEST).write_text(
            json.dumps(
                {
                    "name": pkg.name,
                    "version": pkg.version,
                    "archive": archive.name,
                    "sha256": sha256(archive),
                    "files": files,
                    "lines": lines,
                    "seconds": round(time.perf_counter() - t0, 1),
                },
                indent=2,
            )
            + "\n"
        )
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)  # same filesystem: atomic, no half-extracted corpus
    return Result(pkg, files, lines, "downloaded")


def print_table(results: list[Result]) -> None:
    name_w = max([len("name")] + [len(r.package.name) for r in results])
    ver_w = max([len("version")] + [len(r.package.version) for r in results])
    print(f"{'name':<{name_w}}  {'version':<{ver_w}}  {'files':>7}  {'lines':>10}  status")
    print(f"{'-' * name_w}  {'-' * ver_w}  {'-' * 7}  {'-' * 10}  ------")
    for r in results:
        name, version = r.package.name, r.package.version
        print(f"{name:<{name_w}}  {version:<{ver_w}}  {r.files:>7,}  {r.lines:>10,}  {r.status}")
    ok = [r for r in results if not r.status.startswith("failed")]
    print(
        f"{'total':<{name_w}}  {'':<{ver_w}}  {sum(r.files for r in ok):>7,}  {sum(r.lines for r in ok):>10,}"
    )


def corpus_dirs(set_name: str, cache: Path = DEFAULT_CACHE) -> list[tuple[Package, Path]]:
    """The already-downloaded code bases of a set (used by compare_linters.py)."""
    return [(p, cache / p.dirname) for p in SETS[set_name] if read_manifest(cache / p.dirname)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", choices=sorted(SETS), default="apps", help="which corpus (default: apps)")
    ap.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="restrict to these package names (repeatable)",
    )
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help=f"default: {DEFAULT_CACHE}")
    ap.add_argument("--force", action="store_true", help="re-download even if cached")
    ap.add_argument("--list", action="store_true", help="print the pinned table and exit")
    args = ap.parse_args(argv)

    packages = [p for p in SETS[args.set] if not args.only or p.name in args.only]
    unknown = set(args.only) - {p.name for p in SETS[args.set]}
    if unknown:
        ap.error(f"not in --set {args.set}: {', '.join(sorted(unknown))}")
    if args.list:
        for p in packages:
            print(f"{p.name}=={p.version} ({p.kind}): {p.note}")
        return 0

    results: list[Result] = []
    for pkg in packages:
        print(f"[corpus] {pkg.name}=={pkg.version} ...", end=" ", flush=True)
        t0 = time.perf_counter()
        res = fetch(pkg, args.cache, force=args.force)
        print(
            f"{res.status} ({res.files:,} files, {res.lines:,} lines, {time.perf_counter() - t0:.1f}s)",
            flush=True,
        )
        results.append(res)
    print()
    print_table(results)
    print(f"\ncache: {args.cache}")
    return 1 if any(r.status.startswith("failed") for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())

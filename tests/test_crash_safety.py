"""A run killed in the middle of ``offload --write`` leaves every file old or new, never half-written.

``asgi-migrate offload . --write`` runs in a subprocess over generated files with findings (after
``asgi-migrate init``, so the manifest is recorded too) and is killed with SIGKILL at seeded random points:
some anywhere in the run, most inside the write window (after the first file was replaced). After each kill:

* every ``.py`` file is byte for byte the original or the fully rewritten version (computed beforehand by a
  complete run on a copy);
* the only new files are temp files named ``.<name>.*.asgi-migrate.tmp`` / ``.<manifest>.*.tmp`` (never
  importable: they do not end in ``.py``) and the scan's cache;
* the manifest loads (``Manifest.load``);
* finally a rerun completes the job: every file ends up exactly as the complete run wrote it.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from asgi_migrate.cli.app import app
from asgi_migrate.cli.manifest import Manifest, manifest_path
from typer.testing import CliRunner

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")

FILES = 60  # each killed run plans every file first (libcst): 60 keeps the test near 30 s on 2 cores
RUNS = 5
SEED = 20240613
TEMP = re.compile(r"^\..+\.(asgi-migrate\.)?tmp$")
FIRST = "svc/m000.py"  # changes are written in path order: the first file replaced
CLI = [sys.executable, "-c", "from asgi_migrate.cli.app import main; main()"]

MODULE = """\
import json
import time


async def handler_{i}(path: str) -> dict:
    time.sleep(0.{i})
    with open(path) as fh:
        data = json.load(fh)
    return {{"n": {i}, "data": data}}
"""


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*")
            if p.is_file() and ".asgi-migrate-cache" not in p.parts}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> tuple[Path, dict[str, bytes], dict[str, bytes], float]:
    """(pristine project, its files, the files after a complete `offload --write`, its write window in seconds)."""
    base = tmp_path_factory.mktemp("crash")
    pristine = base / "pristine"
    (pristine / "svc").mkdir(parents=True)
    (pristine / "pyproject.toml").write_text("[project]\nname = 'crash'\n")
    for i in range(FILES):
        (pristine / "svc" / f"m{i:03d}.py").write_text(MODULE.format(i=i))
    cwd = os.getcwd()
    os.chdir(pristine)
    try:
        assert CliRunner().invoke(app, ["init", "."], catch_exceptions=False).exit_code == 0
    finally:
        os.chdir(cwd)
    shutil.rmtree(pristine / ".asgi-migrate-cache", ignore_errors=True)
    old = snapshot(pristine)
    done = base / "done"
    shutil.copytree(pristine, done)
    # the complete run also measures the write window: from the first replaced file to the end of the run
    first = done / FIRST
    proc = subprocess.Popen([*CLI, "offload", ".", "--write", "--jobs", "2"], cwd=done,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    while proc.poll() is None and first.read_bytes() == old[FIRST]:
        time.sleep(0.0005)
    started = time.perf_counter()
    _, stderr = proc.communicate(timeout=300)
    window = max(time.perf_counter() - started, 0.01)
    assert proc.returncode == 0, stderr
    new = snapshot(done)
    assert all(new[f"svc/m{i:03d}.py"] != old[f"svc/m{i:03d}.py"] for i in range(FILES))
    return pristine, old, new, window


def _kill_run(work: Path, rng: random.Random, in_window: bool, first: Path, window: float) -> None:
    before = first.read_bytes()
    proc = subprocess.Popen([*CLI, "offload", ".", "--write", "--jobs", "2"], cwd=work,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if in_window:  # wait for the first replaced file, then kill somewhere in the write window
            while proc.poll() is None and first.read_bytes() == before:
                time.sleep(0.0005)
            time.sleep(rng.uniform(0, window))
        else:
            time.sleep(rng.uniform(0.2, 3.0))
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)


def _check(work: Path, old: dict[str, bytes], new: dict[str, bytes]) -> tuple[int, int]:
    now = snapshot(work)
    n_old = n_new = 0
    for rel, data in now.items():
        if rel in old or rel in new:
            if rel.endswith(".py"):
                assert data in (old[rel], new[rel]), f"{rel} is neither the original nor the rewrite"
                n_old += data == old[rel] and data != new[rel]
                n_new += data == new[rel]
            continue
        name = rel.rsplit("/", 1)[-1]
        assert TEMP.match(name) and not name.endswith(".py"), f"unexpected leftover {rel}"
    assert all(rel in now for rel in old), "a file disappeared"
    Manifest.load(work)  # readable (old or new), never half-written
    assert manifest_path(work).is_file()
    return n_old, n_new


def test_sigkill_during_write_leaves_files_old_or_new(prepared, tmp_path: Path) -> None:
    pristine, old, new, window = prepared
    rng = random.Random(SEED)
    mixed = 0
    for run in range(RUNS):
        work = tmp_path / f"run{run}"
        shutil.copytree(pristine, work)
        _kill_run(work, rng, in_window=run % 3 != 0, first=work / FIRST, window=window)
        _, n_new = _check(work, old, new)
        mixed += 0 < n_new < FILES
    # the runs did hit the write window (else the test proves little)
    assert mixed >= 1, f"no run was killed mid-write (window {window:.3f}s)"
    # a rerun finishes the job
    proc = subprocess.run([*CLI, "offload", ".", "--write", "--jobs", "2"], cwd=work, capture_output=True, text=True,
                          check=False)
    assert proc.returncode in (0, 1), proc.stderr
    final = snapshot(work)
    for rel, data in new.items():
        if rel.endswith(".py"):
            assert final[rel] == data, rel
    Manifest.load(work)

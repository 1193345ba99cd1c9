"""The migration manifest: init, every state transition, atomic saves, corrupt files, merges."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from asgi_migrate.cli.config import load_config
from asgi_migrate.cli.engine import scan
from asgi_migrate.cli.manifest import (
    MANIFEST_NAME,
    Manifest,
    ManifestError,
    VerifyOutcome,
    change_hash,
    editing,
    file_hash,
    init_project,
    parse,
    phase_recorder,
)
from asgi_migrate.cli.rewrite import FileChange, plan, write_changes

T0, T1, T2, T3 = "2025-01-06T09:00:00Z", "2025-01-07T09:00:00Z", "2025-01-08T09:00:00Z", "2025-01-09T09:00:00Z"

SLEEPER = """\
import time


async def nap() -> None:
    time.sleep(0.1)
"""

DB = """\
import sqlite3
import time


async def count() -> int:
    conn = sqlite3.connect("x.db")
    time.sleep(0.1)
    return 1
"""

ASKER = """\
async def ask() -> str:
    return input("?")
"""

CLEAN = """\
async def fine() -> int:
    return 1
"""


def make_project(root: Path, modules: dict[str, str] | None = None) -> Path:
    """A small project: svc/{sleeper,db,asker,clean}.py, a pyproject without our section."""
    modules = modules or {"sleeper.py": SLEEPER, "db.py": DB, "asker.py": ASKER, "clean.py": CLEAN}
    pkg = root / "svc"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    for name, text in modules.items():
        (pkg / name).write_text(text)
    (root / "pyproject.toml").write_text("[project]\nname = 'svc'\n")
    return root


_SYNC_CALL = re.compile(r"\b(time\.sleep|input)\((.*)\)")


def fake_offload(source: str, findings):
    """A stand-in for the offload codemod: to_thread wrappers; sqlite3 left for review."""
    lines = source.splitlines(keepends=True)
    fixed, review = [], []
    for f in findings:
        if f.code == "AM210":
            review.append((f, "connection shared across threads: needs a per-thread connection"))
            continue
        line = lines[f.line - 1]
        new = _SYNC_CALL.sub(lambda m: f"await asyncio.to_thread({m.group(1)}{', ' if m.group(2) else ''}{m.group(2)})",
                             line, count=1)
        if new != line:
            lines[f.line - 1] = new
            fixed.append(f)
    text = "".join(lines)
    if fixed and "import asyncio" not in text:
        text = "import asyncio\n" + text
    return text, fixed, review


def run_offload(root: Path, only: set[str] | None = None, codes: set[str] | None = None, branch=None, commit=None):
    """What ``run_phase("offload", ..., write=True)`` does, with the manifest hook the lead adds."""
    config = load_config(root)
    result = scan([root], config, jobs=1, use_cache=False)
    by_file: dict[str, list] = {}
    for f in result.findings:
        if (only is None or f.path in only) and (codes is None or f.code in codes):
            by_file.setdefault(f.path, []).append(f)
    changes = plan(by_file, config.root, fake_offload)
    hook = phase_recorder(root, "offload", ["offload"], result, changes, branch=branch, commit=commit)
    return write_changes(changes, after_write=hook)


def native_change(root: Path, rel: str) -> FileChange:
    """A stand-in for the native codemod's change: to_thread(time.sleep, x) -> asyncio.sleep(x)."""
    path = root / rel
    old = path.read_text()
    new = old.replace("asyncio.to_thread(time.sleep, ", "asyncio.sleep(")
    return FileChange(path, rel, old, new)


def run_native(root: Path, rels: list[str], now: str | None = None) -> None:
    result = scan([root], load_config(root), jobs=1, use_cache=False)
    written = write_changes([native_change(root, r) for r in rels])
    with editing(root) as m:
        m.record_phase("native", written, ["native"], findings=result.findings, now=now)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = make_project(tmp_path / "proj")
    init_project(root, now=T0)
    return root


def load(root: Path) -> Manifest:
    return Manifest.load(root)


# ----- init ---------------------------------------------------------------------------------------------

def test_init_records_modules_with_findings_sorted_and_stable(project: Path) -> None:
    text = (project / MANIFEST_NAME).read_text()
    data = json.loads(text)
    assert sorted(data["modules"]) == ["svc/asker.py", "svc/db.py", "svc/sleeper.py"]  # clean.py: nothing to do
    rec = data["modules"]["svc/db.py"]
    assert rec["findings"]["open"] == {"AM150": 1, "AM210": 1}
    assert rec["hash"] == file_hash((project / "svc/db.py").read_bytes())
    assert rec["tool_version"] and rec["module"] == "svc.db"
    assert {p: s["state"] for p, s in rec["phases"].items()} == {"offload": "pending", "native": "pending",
                                                                  "verify": "pending"}
    assert rec["history"] == [{"at": T0, "hash": rec["hash"], "phase": "scan", "state": "pending",
                               "tool_version": rec["tool_version"]}]
    # sorted keys, two-space indent, newline at the end: a load/save round trip is byte-identical
    assert text == json.dumps(data, indent=2, sort_keys=True) + "\n"
    load(project).save()
    assert (project / MANIFEST_NAME).read_text() == text


def test_init_adds_commented_config_section_once(project: Path) -> None:
    pyproject = (project / "pyproject.toml").read_text()
    assert pyproject.startswith("[project]\nname = 'svc'\n\n[tool.asgi-migrate]\n")
    assert '# manifest = "asgi-migrate.lock.json"' in pyproject
    load_config(project)  # still valid configuration
    before = (project / MANIFEST_NAME).read_text()
    again = init_project(project)
    assert not again.created and not again.config_added
    assert (project / "pyproject.toml").read_text() == pyproject
    assert (project / MANIFEST_NAME).read_text() == before


def test_init_keeps_an_existing_section_and_creates_a_missing_pyproject(tmp_path: Path) -> None:
    root = make_project(tmp_path / "a")
    (root / "pyproject.toml").write_text("[tool.asgi-migrate]\ninclude = ['svc/*.py']\n")
    assert not init_project(root).config_added
    assert (root / "pyproject.toml").read_text() == "[tool.asgi-migrate]\ninclude = ['svc/*.py']\n"
    root = make_project(tmp_path / "b")
    (root / "pyproject.toml").unlink()
    (root / ".git").mkdir()
    assert init_project(root).config_added
    assert (root / "pyproject.toml").read_text().startswith("[tool.asgi-migrate]\n")


def test_manifest_location_from_configuration(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    (root / "docs").mkdir()
    (root / "pyproject.toml").write_text("[tool.asgi-migrate]\nmanifest = 'docs/migration.json'\n")
    result = init_project(root)
    assert result.manifest == root / "docs/migration.json" and result.manifest.exists()
    (root / "pyproject.toml").write_text("[tool.asgi-migrate]\nmanifest = 3\n")
    with pytest.raises(ManifestError, match="manifest must be a relative file path"):
        Manifest.load(root)


# ----- transitions ------------------------------------------------------------------------------------

def test_offload_write_records_states_counts_review_and_hash(project: Path) -> None:
    written = run_offload(project, branch="migrate/offload", commit="abc123")
    assert sorted(c.rel for c in written) == ["svc/asker.py", "svc/db.py", "svc/sleeper.py"]
    m = load(project)
    sleeper, db, asker = m.modules["svc/sleeper.py"], m.modules["svc/db.py"], m.modules["svc/asker.py"]
    assert sleeper.phases["offload"].state == "offloaded" and sleeper.level() == "offloaded"
    assert sleeper.findings["fixed"] == {"AM150": 1} and sleeper.findings["open"] == {}
    assert sleeper.hash == file_hash((project / "svc/sleeper.py").read_bytes())
    run = sleeper.history[-1]
    assert (run.phase, run.codemods, run.fixed, run.native_todo, run.branch, run.commit) == (
        "offload", ["offload"], {"AM150": 1}, 1, "migrate/offload", "abc123")
    # sqlite3 left for review: the review finding does not keep offload pending, it is listed with why
    assert db.phases["offload"].state == "offloaded"
    assert db.findings["review"] == {"AM210": 1} and db.findings["fixed"] == {"AM150": 1}
    assert [(r.code, r.call, r.line) for r in db.review] == [("AM210", "sqlite3.connect", 7)]
    assert "per-thread connection" in db.review[0].reason
    assert sleeper.native_todo() == 1 and asker.native_todo() == 0  # input() has no native replacement


def test_partial_offload_stays_pending_with_open_counts(project: Path) -> None:
    run_offload(project, only={"svc/db.py"}, codes={"AM210"})  # only the review finding: nothing written
    assert load(project).modules["svc/db.py"].phases["offload"].state == "pending"
    run_offload(project, only={"svc/db.py"}, codes={"AM150"})
    db = load(project).modules["svc/db.py"]
    assert db.phases["offload"].state == "pending"  # sqlite3 was not part of this run: still open
    assert db.findings["open"] == {"AM210": 1} and db.findings["fixed"] == {"AM150": 1}


def test_pending_offloaded_native_verified_failed(project: Path) -> None:
    run_offload(project)
    run_native(project, ["svc/sleeper.py"], now=T2)
    m = load(project)
    s = m.modules["svc/sleeper.py"]
    assert s.phases["native"].state == "native" and s.level() == "native" and s.native_todo() == 0
    assert "asyncio.sleep(0.1)" in (project / "svc/sleeper.py").read_text()
    with editing(project) as m:
        m.record_verify({"svc/sleeper.py": VerifyOutcome(True, max_lag_ms=1.5),
                         "svc/db.py": VerifyOutcome(False, ["svc/db.py:7 sqlite3.connect blocked 40 ms"]),
                         "svc/clean.py": VerifyOutcome(True)}, command="pytest", now=T3)
    m = load(project)
    assert m.modules["svc/sleeper.py"].level() == "verified"
    assert m.modules["svc/sleeper.py"].history[-1].verify == {"ok": True, "blocking": [], "max_lag_ms": 1.5,
                                                              "command": "pytest"}
    db = m.modules["svc/db.py"]
    assert db.phases["verify"].state == "failed" and "1 blocking call" in db.phases["verify"].reason
    assert "svc/clean.py" not in m.modules  # passing verification is no news for a clean module


def test_native_before_offload_counts_as_off_the_loop(project: Path) -> None:
    path = project / "svc/sleeper.py"
    old = path.read_text()
    new = "import asyncio\n" + old.replace("time.sleep(0.1)", "await asyncio.sleep(0.1)")
    result = scan([project], load_config(project), jobs=1, use_cache=False)
    change = FileChange(path, "svc/sleeper.py", old, new,
                        fixed=[f for f in result.findings if f.path == "svc/sleeper.py"])
    with editing(project) as m:
        m.record_phase("native", write_changes([change]), ["native"], findings=result.findings)
    rec = load(project).modules["svc/sleeper.py"]
    assert rec.phases["offload"].state == "offloaded" and rec.phases["native"].state == "native"
    assert rec.findings["fixed"] == {"AM150": 1}


def test_new_offloaded_calls_after_native_reopen_native(project: Path) -> None:
    run_offload(project, only={"svc/sleeper.py"})
    run_native(project, ["svc/sleeper.py"])
    path = project / "svc/sleeper.py"
    path.write_text(path.read_text() + "\n\nasync def later() -> None:\n    time.sleep(1)\n")
    run_offload(project, only={"svc/sleeper.py"})
    rec = load(project).modules["svc/sleeper.py"]
    assert rec.phases["native"].state == "pending" and rec.native_todo() == 1
    assert rec.findings["fixed"] == {"AM150": 2}


def test_skip_needs_a_reason_and_can_be_withdrawn(project: Path) -> None:
    with editing(project) as m:
        with pytest.raises(ValueError):
            m.skip("svc/db.py", "  ")
        m.skip("svc/db.py", "legacy module, deleted next quarter", now=T1)
    rec = load(project).modules["svc/db.py"]
    assert rec.level() == "skipped" and rec.phases["native"].reason == "legacy module, deleted next quarter"
    run_offload(project, only={"svc/db.py"})
    assert load(project).modules["svc/db.py"].phases["offload"].state == "skipped"  # a decision stands
    with editing(project) as m:
        m.unskip("svc/db.py")
    assert load(project).modules["svc/db.py"].phases["offload"].state == "pending"


def test_no_manifest_no_recording(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    assert phase_recorder(root, "offload", ["offload"]) is None
    run_offload(root)
    assert not (root / MANIFEST_NAME).exists()


def test_change_hash_matches_what_is_written(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_bytes(b"\xef\xbb\xbfx = '\xc3\xa9'\n")
    change = FileChange(path, "m.py", "x = 'é'\n", "x = 'è'\n", bom=True)
    write_changes([change])
    assert change_hash(change.new, change.encoding, change.bom) == file_hash(path.read_bytes())


# ----- atomic writes and corrupt manifests -------------------------------------------------------------

def test_save_is_atomic(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = (project / MANIFEST_NAME).read_text()

    def boom(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError), editing(project) as m:
        m.skip("svc/db.py", "x")
    monkeypatch.undo()
    assert (project / MANIFEST_NAME).read_text() == before
    assert sorted(p.name for p in project.iterdir() if p.name.endswith(".tmp")) == []


def _edit(text: str, rel: str, *keys: str, **values) -> str:
    data = json.loads(text)
    target = data["modules"][rel]
    for key in keys:
        target = target[key]
    target.update(values)
    return json.dumps(data, indent=2, sort_keys=True)


CORRUPTIONS = [
    (lambda t: t[: len(t) // 2], r"asgi-migrate\.lock\.json:\d+:\d+: not valid JSON"),
    (lambda t: _edit(t, "svc/asker.py", "phases", "native", state="ofloaded"),
     r"modules\['svc/asker\.py'\]\.phases\.native\.state: 'ofloaded' is not one of pending, native, skipped"),
    (lambda t: t.replace('"format": 1', '"format": 7'), r"format: 7 was written by a newer asgi-migrate"),
    (lambda t: t.replace('"AM150": 1', '"AM150": -1', 1), r"findings\.open\.AM150: must be a count"),
    (lambda t: t.replace('"AM150": 1', '"SLEEP": 1', 1), r"'SLEEP' is not a finding code"),
    (lambda t: t.replace('"module": "svc.asker"', '"modul": "svc.asker"'), r"unknown key 'modul'"),
    (lambda t: t.replace('"hash": ', '"hush": ', 1), r"unknown key 'hush'"),
    (lambda t: _edit(t, "svc/db.py", "phases", "offload", state="skipped"), r"a skipped phase needs a reason"),
    (lambda t: t.replace('"at": "2025-01-06T09:00:00Z"', '"at": "yesterday"', 1), r"'yesterday' is not an ISO 8601"),
    (lambda t: "[]", r"manifest: must be an object, not list"),
    (lambda t: t.replace('  "modules": {', '<<<<<<< HEAD\n  "modules": {', 1),
     r":4: unresolved merge conflict markers"),
    (lambda t: t.replace('"svc/db.py"', '"../db.py"'), r"module keys are file paths relative to the project root"),
]


@pytest.mark.parametrize("mangle,message", CORRUPTIONS)
def test_corrupt_manifest_is_named_and_never_overwritten(project: Path, mangle, message: str) -> None:
    path = project / MANIFEST_NAME
    bad = mangle(path.read_text())
    path.write_text(bad)
    with pytest.raises(ManifestError, match=message) as info:
        Manifest.load(project)
    assert "\n" not in str(info.value)
    with pytest.raises(ManifestError):
        init_project(project)
    with pytest.raises(ManifestError):  # the phase stops before rewriting anything
        run_offload(project)
    assert path.read_text() == bad
    assert "asyncio" not in (project / "svc/sleeper.py").read_text()


# ----- concurrent-looking edits ------------------------------------------------------------------------

def test_two_runs_in_one_checkout_both_land(project: Path) -> None:
    """Recorders are built before either writes (two processes): each reloads under the lock."""
    config = load_config(project)
    result = scan([project], config, jobs=1, use_cache=False)
    hooks, changes = [], []
    for rel in ("svc/sleeper.py", "svc/asker.py"):
        cs = plan({rel: [f for f in result.findings if f.path == rel]}, project, fake_offload)
        hooks.append(phase_recorder(project, "offload", ["offload"], result, cs))
        changes.append(cs)
    write_changes(changes[1], after_write=hooks[1])
    write_changes(changes[0], after_write=hooks[0])
    m = load(project)
    assert m.modules["svc/sleeper.py"].level() == m.modules["svc/asker.py"].level() == "offloaded"
    assert m.modules["svc/db.py"].level() == "pending"


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_runs_on_two_branches_merge_cleanly(tmp_path: Path) -> None:
    """Offload sleeper.py on one branch, asker.py (and a verify) on another: git merges without conflict."""
    base = make_project(tmp_path / "base")
    init_project(base, now=T0)
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    shutil.copytree(base, ours)
    shutil.copytree(base, theirs)
    run_offload(ours, only={"svc/sleeper.py"})
    run_offload(theirs, only={"svc/asker.py", "svc/db.py"})
    with editing(theirs) as m:
        m.record_verify({"svc/asker.py": VerifyOutcome(True)}, now=T2)
    merged = subprocess.run(["git", "merge-file", "-p", str(ours / MANIFEST_NAME), str(base / MANIFEST_NAME),
                             str(theirs / MANIFEST_NAME)], check=False, capture_output=True, text=True)
    assert merged.returncode == 0, merged.stdout
    modules = parse(merged.stdout)
    assert modules["svc/sleeper.py"].level() == "offloaded"
    assert modules["svc/asker.py"].level() == "verified"
    assert modules["svc/db.py"].findings["review"] == {"AM210": 1}
    assert modules["svc/sleeper.py"].history[-1].phase == "offload"

"""The bundled example app: the scan finds exactly its blocking calls, and its own tests run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from asgi_migrate.cli.config import find_root, load_config
from asgi_migrate.cli.engine import scan

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "chatapp"

# Hand-checked against the app (see examples/chatapp/README.md): (line in app/main.py, code, via?)
EXPECTED = {
    (39, "AM200", True),   # lifespan -> init_db -> SQLModel.metadata.create_all
    (40, "AM130", False),  # settings.transcript_dir.mkdir
    (42, "AM220", False),  # s3.create_bucket
    (56, "AM230", False), (58, "AM230", False),  # rate_limit: redis incr / expire
    (79, "AM200", False), (80, "AM200", False),  # session.commit / refresh
    (86, "AM200", True),   # get_conversation_or_404 -> session.get
    (90, "AM200", False),  # session.exec(...).all()
    (100, "AM200", True), (101, "AM200", True), (102, "AM200", True),
    (105, "AM230", True),  # get_cached -> redis get
    (108, "AM100", True),  # generate_reply -> CompletionClient.complete -> requests.post
    (109, "AM230", True), (111, "AM200", True), (112, "AM130", True), (113, "AM130", True),
    (114, "AM230", False),
    (125, "AM130", False), (127, "AM120", False), (128, "AM132", False),  # transcript: exists/open/json.load
    (133, "AM130", True), (136, "AM220", True), (143, "AM220", True),
    (151, "AM200", True), (162, "AM200", True),  # WebSocket handler
}


def test_scan_finds_exactly_the_example_blocking_calls() -> None:
    root = find_root(EXAMPLE)
    result = scan([EXAMPLE], load_config(root), jobs=1, use_cache=False)
    assert {f.path for f in result.findings} == {"app/main.py"}
    got = {(f.line, f.code, bool(f.via)) for f in result.findings}
    assert got == EXPECTED
    chain = next(f for f in result.findings if f.line == 108)
    assert [h.function for h in chain.via] == ["app.services.generate_reply", "app.llm.CompletionClient.complete"]
    assert not any(f.function.endswith(".stats") for f in result.findings)  # the sync route


def run_example_tests(app_dir: Path, blockbuster: bool) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, ASGI_MIGRATE_BLOCKBUSTER="1" if blockbuster else "0")
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--tb=line"],
                          cwd=app_dir, env=env, capture_output=True, text=True, timeout=300)


needs_redis = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")


@needs_redis
def test_example_suite_passes_and_blockbuster_catches_the_blocking_calls() -> None:
    plain = run_example_tests(EXAMPLE, blockbuster=False)
    assert plain.returncode == 0, plain.stdout[-3000:]
    assert " passed" in plain.stdout and "failed" not in plain.stdout
    blocked = run_example_tests(EXAMPLE, blockbuster=True)
    assert blocked.returncode == 1, blocked.stdout[-3000:]
    assert "BlockingError" in blocked.stdout or "Blocking call" in blocked.stdout


# --- the phases on the example app: its own tests pass unchanged, and under blockbuster -------------------

TOOL = Path(sys.executable).parent / "asgi-migrate"


def _copy_example(tmp_path: Path) -> Path:
    dest = tmp_path / "chatapp"
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns(".venv", ".asgi-migrate-cache", "__pycache__",
                                                                   ".pytest_cache"))
    return dest


def _phase(app_dir: Path, phase: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(TOOL), phase, ".", *args], cwd=app_dir, capture_output=True, text=True,
                          timeout=600)


def _assert_suite_passes_under_blockbuster(app_dir: Path) -> None:
    plain = run_example_tests(app_dir, blockbuster=False)
    assert plain.returncode == 0, plain.stdout[-3000:]
    blocked = run_example_tests(app_dir, blockbuster=True)
    assert blocked.returncode == 0, blocked.stdout[-3000:]


@needs_redis
def test_offload_write_then_example_suite_passes_under_blockbuster(tmp_path: Path) -> None:
    app_dir = _copy_example(tmp_path)
    first = _phase(app_dir, "offload", "--write")
    assert "27 finding(s) fixed, 3 left for review" in first.stderr, first.stderr  # the 3 are AM303 hazards
    assert _phase(app_dir, "scan").returncode == 0  # nothing left on the loop
    again = _phase(app_dir, "offload")
    assert again.stdout == ""  # a second run changes nothing
    _assert_suite_passes_under_blockbuster(app_dir)


@needs_redis
def test_native_write_from_untouched_code(tmp_path: Path) -> None:
    app_dir = _copy_example(tmp_path)
    first = _phase(app_dir, "native", "--write")
    assert "native: rewrote 8 file(s)" in first.stderr, first.stderr
    assert _phase(app_dir, "scan").returncode == 0
    assert _phase(app_dir, "native").stdout == ""
    assert "sqlalchemy[asyncio]" in (app_dir / "requirements.txt").read_text()
    _assert_suite_passes_under_blockbuster(app_dir)


@needs_redis
def test_native_write_from_offloaded_code_removes_the_thread_wrappers(tmp_path: Path) -> None:
    app_dir = _copy_example(tmp_path)
    _phase(app_dir, "offload", "--write")
    native = _phase(app_dir, "native", "--write")
    assert "not rewritten" not in native.stderr, native.stderr
    assert not [p for p in (app_dir / "app").glob("*.py") if "to_thread" in p.read_text()]
    _assert_suite_passes_under_blockbuster(app_dir)

"""`asgi-migrate offload` as a user runs it: dry run, --write, exit codes, file safety."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from asgi_migrate.cli.app import app
from asgi_migrate.cli.rewrite import FileChange, write_atomic, write_changes
from typer.testing import CliRunner

runner = CliRunner()

HANDLER = """\
import time

import requests


async def fetch(url: str) -> str:
    time.sleep(0.1)
    return requests.get(url, timeout=5).text
"""

EXPECTED = """\
import asyncio
import time

import requests


async def fetch(url: str) -> str:
    await asyncio.sleep(0.1)
    return (await asyncio.to_thread(requests.get, url, timeout=5)).text
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (tmp_path / "handler.py").write_text(HANDLER)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_dry_run_shows_a_diff_and_writes_nothing(project: Path) -> None:
    result = run("offload", "handler.py")
    assert result.exit_code == 1
    assert "\n-    time.sleep(0.1)\n" in result.stdout and "\n+    await asyncio.sleep(0.1)\n" in result.stdout
    assert result.stdout.startswith("--- a/handler.py\n+++ b/handler.py\n")
    assert "would rewrite 1 file(s), 2 finding(s) fixed, 0 left for review" in result.stderr
    assert (project / "handler.py").read_text() == HANDLER


def test_write_applies_then_second_run_has_nothing_to_do(project: Path) -> None:
    mode = stat.S_IMODE((project / "handler.py").stat().st_mode)
    result = run("offload", "handler.py", "--write")
    assert result.exit_code == 0, result.stderr
    assert (project / "handler.py").read_text() == EXPECTED
    assert stat.S_IMODE((project / "handler.py").stat().st_mode) == mode
    assert not [p for p in project.iterdir() if p.name.endswith(".tmp")]
    again = run("offload", "handler.py")
    assert again.exit_code == 0 and again.stdout == ""
    assert run("scan", "handler.py").exit_code == 0


def test_select_limits_the_rewrite(project: Path) -> None:
    result = run("offload", "handler.py", "--select", "sleep", "--write")
    assert result.exit_code == 0
    text = (project / "handler.py").read_text()
    assert "await asyncio.sleep(0.1)" in text and "requests.get(url, timeout=5).text" in text


def test_crlf_bom_and_latin1_are_preserved(project: Path) -> None:
    crlf = HANDLER.replace("\n", "\r\n").encode("utf-8")
    (project / "crlf.py").write_bytes(b"\xef\xbb\xbf" + crlf)
    (project / "latin.py").write_bytes(b"# -*- coding: latin-1 -*-\n" + HANDLER.replace(
        "import time", "import time  # caf\xe9".encode("latin-1").decode("latin-1")).encode("latin-1"))
    assert run("offload", "crlf.py", "latin.py", "--write").exit_code == 0
    data = (project / "crlf.py").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\n" not in data.replace(b"\r\n", b"")
    assert data.decode("utf-8-sig").replace("\r\n", "\n") == EXPECTED
    latin = (project / "latin.py").read_bytes()
    assert "caf\xe9".encode("latin-1") in latin and b"await asyncio.sleep(0.1)" in latin


def test_symlinks_and_read_only_files_are_left_alone(project: Path, tmp_path_factory) -> None:
    outside = tmp_path_factory.mktemp("outside") / "target.py"
    outside.write_text(HANDLER)
    (project / "link.py").symlink_to(outside)
    (project / "handler.py").chmod(0o444)
    try:
        result = run("offload", "link.py", "handler.py", "--write")
    finally:
        (project / "handler.py").chmod(0o644)
    assert outside.read_text() == HANDLER and (project / "handler.py").read_text() == HANDLER
    assert "link.py: is a symlink: not followed for writing" in result.stderr
    assert "handler.py: read-only file: not rewritten" in result.stderr
    # refused, not failed: left for review with the reason (exit 1, like an unparseable file), not an error (2)
    assert "review link.py:" in result.stderr and "time.sleep: is a symlink: not followed for writing" in result.stderr
    assert result.exit_code == 1


def test_a_write_that_fails_is_an_error(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Exit 2 is for failures (I/O), not for files refused with a reason."""
    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("asgi_migrate.cli.rewrite.write_atomic", disk_full)
    result = run("offload", "handler.py", "--write")
    assert result.exit_code == 2
    assert "not rewritten handler.py: cannot write: No space left on device" in result.stderr
    assert "Traceback" not in result.stderr and (project / "handler.py").read_text() == HANDLER


def test_syntax_error_file_is_named_and_others_still_rewritten(project: Path) -> None:
    (project / "broken.py").write_text("async def f(:\n")
    result = run("offload", ".", "--write")
    assert (project / "handler.py").read_text() == EXPECTED
    assert "skipped broken.py: syntax error at line 1" in result.stderr
    assert result.exit_code == 1


def test_missing_path_is_exit_2(project: Path) -> None:
    result = run("offload", "nope.py")
    assert result.exit_code == 2 and "nope.py: no such file or directory" in result.stderr


def test_write_refuses_a_file_edited_since_it_was_planned(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text("x = 1\n")
    change = FileChange(path, "m.py", "x = 1\n", "x = 2\n")
    path.write_text("x = 3\n")  # someone saved the file meanwhile
    assert write_changes([change]) == []
    assert change.error == "changed on disk since it was read; not written"
    assert path.read_text() == "x = 3\n"


def test_write_atomic_keeps_the_old_file_when_encoding_fails(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text("x = 1\n")
    with pytest.raises(UnicodeEncodeError):
        write_atomic(path, "x = '\u20ac'\n", encoding="latin-1")
    assert path.read_text() == "x = 1\n"
    assert list(tmp_path.iterdir()) == [path]

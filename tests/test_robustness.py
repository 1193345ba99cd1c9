"""Bad input never crashes a run: huge and deeply nested files, libcst round-trip failures, odd files.

What the other suites already cover (not repeated here): syntax errors, non-UTF-8, BOM/CRLF/latin-1, empty
files and invalid configuration for ``scan`` (test_cli_scan.py); BOM/CRLF/latin-1 preservation, symlinks named on
the command line, read-only files, syntax errors and missing paths for ``offload`` (test_cli_offload.py); path
outside the repository, bare repository, detached HEAD for ``branches`` (test_branches.py); corrupt manifests
(test_manifest.py). The corpus-wide run is ``benchmarks/robustness.py``.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import libcst as cst
import pytest
from asgi_migrate.cli.app import app
from asgi_migrate.cli.rewrite import plan_file
from typer.testing import CliRunner

runner = CliRunner()

HANDLER = """\
import time


async def handler():
    time.sleep(1)
"""

ROUNDTRIP_TRAP = """\
import time


def parse(x):
    try:
        return int(x)
    except (ValueError, TypeError) :
        return None


async def handler():
    time.sleep(1)
"""

# Phases that rewrite files: `native` joins when it is registered.
PHASES = ["offload"] + (["native"] if any(c.name == "native" for c in app.registered_commands) else [])


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def one_line_error(result) -> bool:
    return "Traceback" not in result.output and "Traceback" not in result.stderr


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def concatenation(pieces: int) -> str:
    """A module-level string of ``pieces`` implicitly concatenated literals: libcst nests one node per piece."""
    return "TEXT = (\n" + "".join(f"    'line {i}\\n'\n" for i in range(pieces)) + ")\n"


# ----- huge files ------------------------------------------------------------------------------------------------

def test_scan_of_the_stdlib_topics_module(project: Path) -> None:
    """pydoc_data/topics.py (15.7k lines on 3.11) makes libcst recurse past the default limit: the scan uses ast."""
    from pydoc_data import topics

    shutil.copy(topics.__file__, project / "topics.py")
    result = run("scan", ".", "--format", "json", "--no-cache")
    assert result.exit_code == 0 and one_line_error(result)
    data = json.loads(result.stdout)
    assert data["summary"]["files"] == 1 and data["summary"]["lines"] > 5000 and data["summary"]["skipped"] == []
    assert run("offload", ".").exit_code == 0  # no findings: libcst never runs on it


def test_huge_generated_file_scans_and_offloads(project: Path) -> None:
    body = "".join(f"def f{i}(x):\n    return x + {i}\n\n\n" for i in range(500))
    (project / "huge.py").write_text("import time\n\n\n" + body + HANDLER.split("\n\n\n", 1)[1])
    (project / "big_scan.py").write_text("".join(f"def g{i}(x):\n    return x * {i}\n\n\n" for i in range(15000)))
    data = json.loads(run("scan", ".", "--format", "json", "--no-cache").stdout)
    assert data["summary"]["lines"] > 62000
    assert [(f["path"], f["line"]) for f in data["findings"]] == [("huge.py", 2005)]
    result = run("offload", ".", "--write")
    assert result.exit_code == 0 and one_line_error(result)
    text = (project / "huge.py").read_text()
    assert text.startswith("import asyncio\nimport time\n") and text.endswith("    await asyncio.sleep(1)\n")
    assert text.replace("import asyncio\n", "", 1).replace("await asyncio.sleep(1)", "time.sleep(1)") == \
        "import time\n\n\n" + body + HANDLER.split("\n\n\n", 1)[1]


@pytest.mark.parametrize("phase", PHASES)
def test_too_deep_for_libcst_is_refused_with_a_reason(project: Path, phase: str) -> None:
    """1500 concatenated literals: libcst raises RecursionError at the default limit (or cannot parse)."""
    source = "import time\n\n" + concatenation(1500) + "\n\n" + HANDLER.split("\n\n\n", 1)[1]
    (project / "deep.py").write_text(source)
    (project / "ok.py").write_text(HANDLER)
    result = run(phase, ".", "--write")
    assert one_line_error(result)
    assert "asyncio" in (project / "ok.py").read_text()  # the run goes on
    if (project / "deep.py").read_text() == source:  # refused: named, with the reason
        assert result.exit_code in (1, 2)
        assert "deep.py" in result.stderr
        assert "RecursionError" in result.stderr or "not parseable by libcst" in result.stderr
    else:  # handled after all (a deeper stack, a newer libcst): it must then be right
        compile((project / "deep.py").read_text(), "deep.py", "exec")
        assert "await asyncio.sleep(1)" in (project / "deep.py").read_text()


def test_recursion_error_in_a_rewriter_never_escapes(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text(HANDLER)

    def recursing(source, findings):
        return recursing(source, findings)

    change = plan_file(path, "m.py", [], recursing)
    assert change.error == "too deeply nested for the rewriter (RecursionError)" and not change.changed
    assert sys.getrecursionlimit() >= 1000  # the limit is not left lowered


def test_ast_recursion_error_skips_the_file_and_the_scan_goes_on(project: Path) -> None:
    (project / "ops.py").write_text("X = " + " + ".join(["1"] * 100_000) + "\n")
    (project / "ok.py").write_text(HANDLER)
    result = run("scan", ".", "--format", "json", "--no-cache")
    assert result.exit_code == 1 and one_line_error(result)
    data = json.loads(result.stdout)
    skipped = {s["path"]: s["reason"] for s in data["summary"]["skipped"]}
    assert "ops.py" in skipped and ("RecursionError" in skipped["ops.py"] or "too" in skipped["ops.py"])
    assert [f["path"] for f in data["findings"]] == ["ok.py"]
    assert "skipped ops.py:" in result.stderr and len(result.stderr.strip().splitlines()) == 1


# ----- libcst round trip (LibCST#1457) ---------------------------------------------------------------------------

@pytest.mark.parametrize("phase", PHASES)
def test_file_libcst_cannot_round_trip_is_refused_and_nothing_else_changes(project: Path, phase: str) -> None:
    if cst.parse_module(ROUNDTRIP_TRAP).code == ROUNDTRIP_TRAP:
        pytest.skip("this libcst round-trips `except (A, B) :` (LibCST#1457 fixed)")
    (project / "trap.py").write_text(ROUNDTRIP_TRAP)
    (project / "ok.py").write_text(HANDLER)
    result = run(phase, ".", "--write")
    assert one_line_error(result)
    assert (project / "trap.py").read_text() == ROUNDTRIP_TRAP  # byte for byte: the space before ':' included
    assert "trap.py:12:5 AM150 time.sleep: libcst does not round-trip this file byte for byte" in result.stderr
    assert "await asyncio.sleep(1)" in (project / "ok.py").read_text()
    assert result.exit_code == 1  # left for review, not an error


def test_cr_only_line_endings_are_refused_not_mangled(project: Path) -> None:
    data = HANDLER.replace("\n", "\r").encode()
    (project / "cr.py").write_bytes(data)
    result = run("offload", "cr.py", "--write")
    assert one_line_error(result) and result.exit_code == 1
    assert (project / "cr.py").read_bytes() == data
    assert "cr.py:5:5 AM150 time.sleep: libcst does not round-trip" in result.stderr


def test_mixed_line_endings_keep_every_untouched_line(project: Path) -> None:
    data = b"import time\r\n\r\n\r\nasync def handler():\n    x = 1\r\n    time.sleep(1)\r\n    return x\n"
    (project / "mixed.py").write_bytes(data)
    assert run("offload", "mixed.py", "--write").exit_code == 0
    new = (project / "mixed.py").read_bytes()
    assert new == b"import asyncio\r\n" + data.replace(b"time.sleep(1)", b"await asyncio.sleep(1)")


# ----- odd files in a folder run ---------------------------------------------------------------------------------

@pytest.mark.parametrize("phase", PHASES)
def test_odd_files_are_named_or_ignored_and_the_run_goes_on(project: Path, phase: str) -> None:
    (project / "ok.py").write_text(HANDLER)
    (project / "latin.py").write_bytes(b"import time\nasync def f():\n    s = '\xe9'; time.sleep(1)\n")  # no cookie
    (project / "empty.py").write_text("")
    (project / "blank.py").write_text("\n\n   \n")
    (project / "comments.py").write_text("# nothing but a comment\n")
    (project / "nul.py").write_bytes(b"x = 1\x00\n")
    (project / "pkg.py").mkdir()  # a folder named like a module
    result = run(phase, ".", "--write")
    assert one_line_error(result) and result.exit_code == 1  # skipped files: exit 1
    assert "await asyncio.sleep(1)" in (project / "ok.py").read_text()
    assert "skipped latin.py: cannot decode" in result.stderr
    assert "skipped nul.py:" in result.stderr
    assert (project / "latin.py").read_bytes() == b"import time\nasync def f():\n    s = '\xe9'; time.sleep(1)\n"
    assert (project / "empty.py").read_text() == "" and (project / "blank.py").read_text() == "\n\n   \n"


@pytest.mark.parametrize("phase", PHASES)
def test_symlinks_found_by_the_walk_are_never_written_through(project: Path, tmp_path_factory, phase: str) -> None:
    outside = tmp_path_factory.mktemp("outside")
    (outside / "target.py").write_text(HANDLER)
    (outside / "pkg").mkdir()
    (outside / "pkg" / "mod.py").write_text(HANDLER)
    (project / "svc").mkdir()
    (project / "svc" / "link.py").symlink_to(outside / "target.py")
    (project / "svc" / "linkdir").symlink_to(outside / "pkg", target_is_directory=True)
    (project / "svc" / "ok.py").write_text(HANDLER)
    result = run(phase, ".", "--write")
    assert one_line_error(result)
    assert (outside / "target.py").read_text() == HANDLER and (outside / "pkg" / "mod.py").read_text() == HANDLER
    assert (project / "svc" / "link.py").is_symlink() and (project / "svc" / "linkdir").is_symlink()
    assert "await asyncio.sleep(1)" in (project / "svc" / "ok.py").read_text()
    if "link.py" in result.stderr:
        assert "svc/link.py: is a symlink: not followed for writing" in result.stderr


@pytest.mark.parametrize("command", ["scan", "init", "status", *PHASES])
def test_missing_path_is_one_line_exit_2(project: Path, command: str) -> None:
    result = run(command, "nope.py")
    assert result.exit_code == 2 and one_line_error(result)
    assert "nope.py: no such file or directory" in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("command", ["init", "status", *PHASES])
def test_invalid_configuration_is_one_line_exit_2_for_every_command(project: Path, command: str) -> None:
    (project / "ok.py").write_text(HANDLER)
    (project / "pyproject.toml").write_text("[tool.asgi-migrate]\ninclude = 3\n")
    result = run(command, ".")
    assert result.exit_code == 2 and one_line_error(result)
    assert "include" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert (project / "ok.py").read_text() == HANDLER


def test_folder_without_python_files(project: Path) -> None:
    (project / "README.md").write_text("hello\n")
    assert run("scan", ".").exit_code == 0
    assert run("offload", ".", "--write").exit_code == 0

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
        assert result.exit_code == 1  # left for review, like a file libcst cannot parse: not an error
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
    assert not change.failed  # a refusal (exit 1), not a failure (exit 2)
    assert sys.getrecursionlimit() >= 1000  # the limit is not left lowered


# ----- exit codes: 0 nothing left, 1 left for review (refused or unparseable files too), 2 errors -----------------

def _deep_handler() -> str:
    return "import time\n\n" + concatenation(1500) + "\n\n" + HANDLER.split("\n\n\n", 1)[1]


def test_recursion_error_and_unparseable_files_share_exit_code_1(project: Path, monkeypatch) -> None:
    """A file libcst recurses too deep on is left for review, exactly like one it cannot round-trip."""
    from asgi_migrate.codemods import offload

    def recursing(self, module):
        raise RecursionError("maximum recursion depth exceeded")

    (project / "deep.py").write_text(HANDLER)
    with monkeypatch.context() as patched:
        patched.setattr(offload.OffloadCommand, "transform_module", recursing)
        deep = run("offload", "deep.py", "--write")
    assert deep.exit_code == 1 and one_line_error(deep)
    assert "review deep.py:5:5 AM150 time.sleep: too deeply nested for the rewriter (RecursionError)" in deep.stderr
    assert (project / "deep.py").read_text() == HANDLER
    trap = "    try:\n        pass\n    except (ValueError, TypeError) :\n        pass\n"
    trap_source = ROUNDTRIP_TRAP.replace("async def handler():\n", "async def handler():\n    parse(1)\n" + trap)
    if cst.parse_module(trap_source).code != trap_source:  # the trap sits in the function being rewritten
        (project / "trap.py").write_text(trap_source)
        refused = run("offload", "trap.py", "--write")
        assert refused.exit_code == deep.exit_code == 1
        assert "review trap.py:17:5 AM150 time.sleep: libcst does not round-trip" in refused.stderr


def test_recursion_error_inside_the_offload_rewrite_is_not_an_internal_error() -> None:
    from asgi_migrate.codemods.analysis import analyze
    from asgi_migrate.codemods.offload import offload_source
    from asgi_migrate.codemods.summary import summarize

    source = _deep_handler()
    findings = analyze([summarize(source, "app", "app.py")])
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(400)  # whatever this interpreter's stack: libcst must recurse past it here
    try:
        result = offload_source(source, findings)
    finally:
        sys.setrecursionlimit(limit)
    assert findings and result.code == source and not result.fixed
    assert {r.reason for r in result.review} == {"too deeply nested for the rewriter (RecursionError)"}


@pytest.mark.parametrize("phase", PHASES)
def test_refused_files_exit_1_failed_writes_exit_2(project: Path, monkeypatch, phase: str) -> None:
    (project / "ok.py").write_text(HANDLER)
    (project / "ro.py").write_text(HANDLER)
    (project / "ro.py").chmod(0o444)
    try:
        refused = run(phase, ".", "--write")
    finally:
        (project / "ro.py").chmod(0o644)
    assert one_line_error(refused) and "ro.py: read-only file: not rewritten" in refused.stderr
    assert "await asyncio.sleep(1)" in (project / "ok.py").read_text()
    if phase == "offload":  # native's exit code is decided in cli/native_phase.py
        assert refused.exit_code == 1

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("asgi_migrate.cli.rewrite.write_atomic", disk_full)
    failed = run(phase, "ro.py", "--write")
    assert failed.exit_code == 2 and one_line_error(failed)
    assert "ro.py: cannot write: No space left on device" in failed.stderr
    assert (project / "ro.py").read_text() == HANDLER


# ----- match statements in extracted blocks -----------------------------------------------------------------------

MATCH_BLOCKS = """\
import asyncio
import json


async def by_kind(kind, path):
    await asyncio.sleep(0)
    match kind:
        case {"path": p}:
            with open(p) as f:
                data = json.load(f)
            return data


async def loop(path):
    await asyncio.sleep(0)
    for item in json.load(open(path)):
        match item:
            case {"p": p}:
                open(p).read()
        open(path).read()
    return p


async def shadowed(path):
    await asyncio.sleep(0)
    with open(path) as f:
        match json.load(f):
            case [*rest] if rest:
                pass
            case {**rest}:
                pass
            case other:
                rest = other
    return rest


rest = p = None  # module globals of the same names: never what the helpers must read
"""


def test_match_in_extracted_blocks_never_an_internal_error() -> None:
    from asgi_migrate.codemods.analysis import analyze
    from asgi_migrate.codemods.offload import offload_source
    from asgi_migrate.codemods.summary import summarize

    findings = analyze([summarize(MATCH_BLOCKS, "app", "app.py")])
    result = offload_source(MATCH_BLOCKS, findings)
    assert not [r.reason for r in result.review], [r.reason for r in result.review]
    assert len(result.fixed) == len(findings)
    compile(result.code, "app.py", "exec", dont_inherit=True)
    code = result.code
    # the pattern's capture `p` is a local the helper receives, not the module's global
    assert "def _by_kind_sync(p):" in code and "data = await asyncio.to_thread(_by_kind_sync, p)" in code
    # `p` is read after the loop but bound only when a case matches: the loop stays, calls move one by one
    assert "for item in await asyncio.to_thread(lambda: json.load(open(path))):" in code
    # every path binds `rest` (a capture in two cases, an assignment in the last): the helper returns it
    assert "rest = await asyncio.to_thread(_shadowed_sync, path)" in code
    assert "def _shadowed_sync(path):" in code and code.count("    return rest\n") == 2


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

ROUNDTRIP_TRAP_INSIDE = """\
import time


async def handler(x):
    try:
        time.sleep(1)
    except (ValueError, TypeError) :
        return None
"""


@pytest.mark.parametrize("phase", PHASES)
def test_function_libcst_cannot_round_trip_is_refused_and_nothing_else_changes(project: Path, phase: str) -> None:
    if cst.parse_module(ROUNDTRIP_TRAP_INSIDE).code == ROUNDTRIP_TRAP_INSIDE:
        pytest.skip("this libcst round-trips `except (A, B) :` (LibCST#1457 fixed)")
    (project / "trap.py").write_text(ROUNDTRIP_TRAP_INSIDE)
    (project / "ok.py").write_text(HANDLER)
    result = run(phase, ".", "--write")
    assert one_line_error(result)
    assert (project / "trap.py").read_text() == ROUNDTRIP_TRAP_INSIDE  # byte for byte: the space before ':' too
    assert "trap.py:6:9 AM150 time.sleep: libcst does not round-trip this file byte for byte" in result.stderr
    assert "await asyncio.sleep(1)" in (project / "ok.py").read_text()
    assert result.exit_code == 1  # left for review, not an error


def test_round_trip_trap_in_an_untouched_function_is_kept_byte_for_byte(project: Path) -> None:
    """offload elides functions without findings before libcst: the trap there is never parsed, and its
    original bytes come back unchanged around the rewritten handler."""
    if cst.parse_module(ROUNDTRIP_TRAP).code == ROUNDTRIP_TRAP:
        pytest.skip("this libcst round-trips `except (A, B) :` (LibCST#1457 fixed)")
    (project / "trap.py").write_text(ROUNDTRIP_TRAP)
    result = run("offload", ".", "--write")
    assert result.exit_code == 0, result.stderr
    new = (project / "trap.py").read_text()
    assert new == "import asyncio\n" + ROUNDTRIP_TRAP.replace("time.sleep(1)", "await asyncio.sleep(1)")
    assert "    except (ValueError, TypeError) :\n" in new


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

"""`asgi-migrate status`: states measured by re-scanning, regressions, the four formats, --check."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import typer
from asgi_migrate.cli.commands_manifest import init_command, status_command
from asgi_migrate.cli.manifest import MANIFEST_NAME, VerifyOutcome, editing, init_project
from asgi_migrate.cli.status import check, compute, progress_svg, render, render_status
from test_manifest import T0, T3, make_project, run_native, run_offload
from typer.testing import CliRunner

runner = CliRunner()


def cli() -> typer.Typer:
    """The commands as the lead will register them, on a fresh app."""
    app = typer.Typer(add_completion=False)
    app.command("init")(init_command)
    app.command("status")(status_command)
    return app


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = make_project(tmp_path / "proj")
    init_project(root, now=T0)
    return root


def states(root: Path) -> dict[str, tuple[str, dict[str, str]]]:
    return {m.rel: (m.level, m.phases) for m in compute(root).modules}


def test_before_any_phase(project: Path) -> None:
    status = compute(project)
    assert [m.rel for m in status.modules] == ["svc/asker.py", "svc/db.py", "svc/sleeper.py"]
    assert status.clean == 2  # __init__.py, clean.py
    assert all(m.level == "pending" and m.tracked for m in status.modules)
    assert status.modules[2].phases == {"offload": "pending", "native": "pending", "verify": "pending"}
    assert status.modules[0].phases["native"] == "n/a"  # input(): nothing native replaces it
    md = render(status, "markdown")
    assert "offload **pending** (3 modules to go)" in md
    assert "| `svc/db.py` | pending | 2 (sleep 1, sqlite3 1) |" in md
    assert "asgi-migrate offload svc/asker.py svc/db.py svc/sleeper.py --write" in md
    assert check(status) == []
    assert check(status, "offloaded") == [f"svc/{m}.py: below offloaded: offload pending"
                                          for m in ("asker", "db", "sleeper")]


def test_after_offload(project: Path) -> None:
    run_offload(project)
    status = compute(project)
    by = {m.rel: m for m in status.modules}
    assert by["svc/sleeper.py"].level == "offloaded" and by["svc/sleeper.py"].phases["native"] == "pending"
    assert by["svc/asker.py"].phases == {"offload": "offloaded", "native": "n/a", "verify": "pending"}
    db = by["svc/db.py"]
    assert db.phases["offload"] == "offloaded" and not db.regressed
    assert [(f.line, f.code, why) for f, why in db.review] == [
        (7, "AM210", "connection shared across threads: needs a per-thread connection")]
    assert db.open == [] and db.fixed == {"AM150": 1}
    md = render(status, "markdown")
    assert "## Offload: done" in md and "## Native: pending" in md
    assert "| `svc/db.py:7` | AM210 | `sqlite3.connect` | connection shared across threads" in md
    assert ("| module | state | open findings | calls to convert |\n|---|---|---|---|\n"
            "| `svc/db.py` | pending | 0 | 1 |") in md
    assert "asgi-migrate native . --write" in md  # project-wide: callers in other modules change too
    assert "asgi-migrate offload" not in md
    assert check(status, "offloaded") == []
    assert check(status, "native") == ["svc/db.py: below native: native pending",
                                       "svc/sleeper.py: below native: native pending"]


def test_after_native_and_verify(project: Path) -> None:
    run_offload(project)
    run_native(project, ["svc/sleeper.py"])
    assert states(project)["svc/sleeper.py"] == ("native", {"offload": "offloaded", "native": "native",
                                                            "verify": "pending"})
    with editing(project) as m:
        m.record_verify({"svc/sleeper.py": VerifyOutcome(True), "svc/asker.py": VerifyOutcome(True),
                         "svc/db.py": VerifyOutcome(False, ["svc/db.py:7 sqlite3.connect blocked 40 ms"])}, now=T3)
    got = states(project)
    assert got["svc/sleeper.py"][0] == got["svc/asker.py"][0] == "verified"
    assert got["svc/db.py"] == ("offloaded", {"offload": "offloaded", "native": "pending", "verify": "failed"})
    status = compute(project)
    assert check(status, "verified") == ["svc/db.py: below verified: native pending, verify failed"]
    md = render(status, "markdown")
    assert "| `svc/db.py` | failed (1 blocking call(s) at runtime) | 0 |" in md
    with editing(project) as m:
        m.skip("svc/db.py", "sqlite3 goes away with the Postgres move")
    status = compute(project)
    assert check(status, "verified") == []
    assert "- `svc/db.py`: offload skipped: sqlite3 goes away with the Postgres move" in render(status, "markdown")


def test_regression_after_a_file_edit(project: Path) -> None:
    run_offload(project)
    path = project / "svc/sleeper.py"
    path.write_text(path.read_text() + "\n\nasync def again() -> None:\n    time.sleep(2)\n")
    status = compute(project)
    sleeper = next(m for m in status.modules if m.rel == "svc/sleeper.py")
    assert sleeper.regressed and sleeper.changed and sleeper.level == "pending"
    assert [(f.line, f.call, f.function) for f in sleeper.regressions] == [(10, "time.sleep", "svc.sleeper.again")]
    assert check(status) == [("svc/sleeper.py:10: regression: AM150 time.sleep in svc.sleeper.again "
                             "(module recorded as migrated)")]
    table = render(status, "table")
    assert "REGRESSED" in table and "1 regressed" in table
    assert "regression svc/sleeper.py:10 AM150 time.sleep" in table
    assert "## Regressions" in render(status, "markdown")
    assert json.loads(render(status, "json"))["totals"]["regressions"] == 1
    # a finding left for review, moved by an edit above it, is not a regression
    db = project / "svc/db.py"
    db.write_text("# a comment\n" + db.read_text())
    assert not next(m for m in compute(project).modules if m.rel == "svc/db.py").regressed


def test_edit_without_new_findings_is_re_analysed_not_regressed(project: Path) -> None:
    run_offload(project, only={"svc/sleeper.py"})
    path = project / "svc/sleeper.py"
    path.write_text(path.read_text() + "\n# reviewed\n")
    m = next(m for m in compute(project).modules if m.rel == "svc/sleeper.py")
    assert m.changed and not m.regressed and m.level == "offloaded"
    # a module still pending that gains findings is more work, not a regression
    asker = project / "svc/asker.py"
    asker.write_text(asker.read_text() + "\n\nasync def more() -> str:\n    return input('!')\n")
    a = next(m for m in compute(project).modules if m.rel == "svc/asker.py")
    assert not a.regressed and len(a.open) == 2


def test_untracked_and_removed_modules(project: Path) -> None:
    (project / "svc/new.py").write_text("import time\n\n\nasync def n() -> None:\n    time.sleep(1)\n")
    (project / "svc/asker.py").unlink()
    status = compute(project)
    by = {m.rel: m for m in status.modules}
    assert not by["svc/new.py"].tracked and by["svc/new.py"].level == "pending"
    assert by["svc/asker.py"].missing
    data = json.loads(render(status, "json"))
    assert [m["path"] for m in data["modules"] if m["missing"]] == ["svc/asker.py"]
    assert data["totals"]["modules"] == 3


def test_status_without_manifest(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    status = compute(root)
    assert not status.manifest_found and all(not m.tracked for m in status.modules)
    md = render(status, "markdown")
    assert "asgi-migrate init\nasgi-migrate offload" in md
    assert "run `asgi-migrate init`" in render(status, "table")


def test_json_shape(project: Path) -> None:
    run_offload(project)
    data = json.loads(render_status(project, "json"))
    assert set(data) == {"version", "manifest", "modules", "totals", "timeline", "unreadable", "next"}
    db = next(m for m in data["modules"] if m["path"] == "svc/db.py")
    assert db["phases"]["offload"] == {"state": "offloaded", "progress": 0.5}
    assert db["findings"] == {"open": {}, "review": {"AM210": 1}, "fixed": {"AM150": 1}, "suppressed": {}}
    assert db["review"][0]["reason"].startswith("connection shared")
    assert data["totals"]["phases"]["offload"] == {"done": 3, "pending": 0}
    assert [p["offloaded"] for p in data["timeline"]] == [0, 3]
    assert data["timeline"][0] == {"at": T0, "tracked": 3, "offloaded": 0, "native": 0, "verified": 0}


def test_html_is_self_contained_with_a_chart(project: Path) -> None:
    run_offload(project)
    page = render_status(project, "html")
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and page.count("<polyline") == 4
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page) and "<script" not in page
    assert "svc/db.py:7" in page and ">now<" in page
    assert "No history yet" in progress_svg([])


def test_suppressed_findings_are_counted(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", {"quiet.py": "import time\n\n\nasync def q() -> None:\n"
                                                     "    time.sleep(1)  # asgi-migrate: ignore[AM150]\n"})
    init_project(root)
    m = compute(root).modules[0]
    assert m.rel == "svc/quiet.py" and m.suppressed == {"AM150": 1} and m.level == "offloaded"


# ----- the commands, end to end ------------------------------------------------------------------------

def test_cli_init_and_status_formats(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project(tmp_path / "p")
    monkeypatch.chdir(root)
    app = cli()
    res = runner.invoke(app, ["init"])
    assert res.exit_code == 0 and "created asgi-migrate.lock.json with 3 module(s)" in res.output
    res = runner.invoke(app, ["init"])
    assert res.exit_code == 0 and "already exists; left unchanged" in res.output
    res = runner.invoke(app, ["status"])
    assert res.exit_code == 0 and "total: 3 modules in migration (2 clean)" in res.output
    for fmt, marker in (("markdown", "# Migration status"), ("json", '"totals"'), ("html", "<svg")):
        res = runner.invoke(app, ["status", "--format", fmt, "-o", f"out.{fmt}"])
        assert res.exit_code == 0, res.output
        assert marker in (root / f"out.{fmt}").read_text()
    assert runner.invoke(app, ["status", "--check"]).exit_code == 0
    res = runner.invoke(app, ["status", "--check", "--require", "offloaded", "-f", "json"])
    assert res.exit_code == 1 and "check: svc/db.py: below offloaded: offload pending" in res.output
    run_offload(root)
    assert runner.invoke(app, ["status", "--check", "--require", "offloaded"]).exit_code == 0
    (root / "svc/asker.py").write_text(ASKER_AGAIN)
    res = runner.invoke(app, ["status", "--check", "-f", "markdown"])
    assert res.exit_code == 1 and "regression: AM140 builtins.input in svc.asker.ask" in res.output


ASKER_AGAIN = "async def ask() -> str:\n    return input('?')\n"


def test_cli_errors_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project(tmp_path / "p")
    monkeypatch.chdir(root)
    app = cli()
    (root / MANIFEST_NAME).write_text('{"format": 1, "modules": {"svc/a.py": {"hash": 5}}}\n')
    for args in (["status"], ["init"]):
        res = runner.invoke(app, args)
        assert res.exit_code == 2
        assert "modules['svc/a.py']: missing key 'phases'" in res.output and "Traceback" not in res.output
    assert (root / MANIFEST_NAME).read_text() == '{"format": 1, "modules": {"svc/a.py": {"hash": 5}}}\n'
    res = runner.invoke(app, ["status", "missing/"])
    assert res.exit_code == 2 and "missing: no such file or directory" in res.output

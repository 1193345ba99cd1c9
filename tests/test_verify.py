"""`asgi-migrate verify`: the runtime probe on tiny apps that block on purpose (and one that does not),
loop-lag figures against a known injected stall, the pytest plugin, the report, the manifest."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest
import typer
from asgi_migrate.cli.commands_verify import VERIFY_CONTEXT, verify_command
from asgi_migrate.cli.config import load_config
from asgi_migrate.cli.verify import (
    DEFAULT_ALLOW,
    Lag,
    VerifyError,
    config_allow,
    parse_allow,
    verify,
)
from rich.console import Console
from typer.testing import CliRunner

PY = sys.executable

BLOCKING_APP = '''\
import asyncio
import socket
import sqlite3
import time


def helper_sleep():
    time.sleep(0.01)


async def sleeps():
    helper_sleep()


async def queries(path):
    conn = sqlite3.connect(path)
    rows = conn.execute("select 41 + 1").fetchall()
    conn.close()
    return rows


async def reads(path):
    with open(path, "rb") as f:
        return f.read()


async def connects(port):
    s = socket.socket()
    s.connect(("127.0.0.1", port))
    s.close()


async def main(db, port):
    await sleeps()
    print("rows", await queries(db))
    print("read", len(await reads(__file__)))
    await connects(port)
'''

RUNNER = '''\
import asyncio, socket, sys
from app import main

server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen()
asyncio.run(main(sys.argv[1], server.getsockname()[1]))
server.close()
'''

CLEAN_APP = '''\
import asyncio
import sqlite3
import time


def work(path):
    time.sleep(0.01)
    with open(path, "rb") as f:
        data = f.read()
    conn = sqlite3.connect(":memory:")
    conn.execute("select 1").fetchall()
    return len(data)


async def main():
    await asyncio.sleep(0.02)
    n = await asyncio.to_thread(work, __file__)
    print("read", n)
'''


def _project(root: Path, files: dict[str, str], pyproject: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'tiny'\n" + pyproject)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def _verify(root: Path, command: list[str], **kwargs):
    console = Console(record=True, width=200, file=open("/dev/null", "w"))  # noqa: SIM115
    output = root / "verify.json"
    run = verify(root, load_config(root), command, console=console, output=output, cwd=root, **kwargs)
    return run, json.loads(output.read_text()), console.export_text()


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


# ----- the probe on a tiny app ----------------------------------------------------------------------------

def test_records_every_blocking_kind_with_its_project_frame(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", {"app.py": BLOCKING_APP, "run.py": RUNNER})
    run, data, text = _verify(root, [PY, "run.py", str(root / "db.sqlite")])
    assert run.exit_code == 1 and run.returncode == 0
    by_func = {c["func"]: c for c in data["calls"]}
    sleep = by_func["time.sleep"]
    # the project frame that led to it (innermost) and the async function it ran in
    assert sleep["frame"] == {"path": "app.py", "line": _line(BLOCKING_APP, "time.sleep(0.01)"),
                              "function": "helper_sleep", "is_async": False}
    assert sleep["site"]["function"] == "sleeps" and sleep["max_ms"] >= 9
    assert by_func["sqlite3.Connection.execute"]["frame"]["line"] == _line(BLOCKING_APP, "select 41")
    assert by_func["io.BufferedReader.read"]["frame"]["function"] == "reads"
    assert by_func["socket.socket.connect"]["frame"]["function"] == "connects"
    assert all(c["scan"] == "known" for c in data["calls"]), data["calls"]
    assert "app.py:" in text and "verify: failed" in text


def test_recording_does_not_change_what_the_program_does(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    root = _project(tmp_path / "p", {"app.py": BLOCKING_APP, "run.py": RUNNER})
    run, _, _ = _verify(root, [PY, "run.py", str(root / "db.sqlite")])
    out = capfd.readouterr().out
    assert "rows [(42,)]" in out and f"read {len(BLOCKING_APP)}" in out  # no BlockingError raised
    assert run.returncode == 0


def test_a_clean_app_passes(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", {"app.py": CLEAN_APP, "run.py": "import asyncio, app\nasyncio.run(app.main())\n"})
    run, data, text = _verify(root, [PY, "run.py"])
    assert data["calls"] == [] and run.exit_code == 0, data
    assert data["lag"]["samples"] > 0 and data["lag"]["max_ms"] < 100
    assert "verify: passed" in text


def test_lag_measures_a_known_stall(tmp_path: Path) -> None:
    stall = '''\
    import asyncio, time

    async def main():
        await asyncio.sleep(0.05)
        time.sleep(0.2)
        await asyncio.sleep(0.05)

    asyncio.run(main())
    '''
    root = _project(tmp_path / "p", {"stall.py": stall})
    run, data, text = _verify(root, [PY, "stall.py"])
    lag = data["lag"]
    assert 195.0 <= lag["max_ms"] <= 260.0, lag
    assert lag["stalls"] == 1 and run.exit_code == 1
    assert "max loop lag" in text


def test_lag_under_the_threshold_without_blocking_passes(tmp_path: Path) -> None:
    stall = "import asyncio, time\n\nasync def main():\n    time.sleep(0.03)  # asgi-migrate: ignore\n\n" \
            "asyncio.run(main())\n"
    root = _project(tmp_path / "p", {"stall.py": stall})
    run, data, _ = _verify(root, [PY, "stall.py"], modules=["nothing_here"], threshold_ms=200)
    assert 25 <= data["lag"]["max_ms"] <= 90 and data["calls"] == [] and run.exit_code == 0


# ----- pytest, TestClient, per-test attribution ------------------------------------------------------------

FASTAPI_APP = '''\
import time

from fastapi import FastAPI

app = FastAPI()


def slow_lookup():
    time.sleep(0.15)
    return 1


@app.get("/slow")
async def slow():
    return {"n": slow_lookup()}


@app.get("/fast")
async def fast():
    return {"n": 2}


@app.get("/sync")
def sync_route():
    time.sleep(0.01)  # a plain def route runs in the thread pool: fine
    return {"n": 3}
'''

FASTAPI_TESTS = '''\
import asyncio
import time

from fastapi.testclient import TestClient

from service.main import app


def test_slow():
    with TestClient(app) as c:
        assert c.get("/slow").json() == {"n": 1}


def test_fast_and_sync():
    with TestClient(app) as c:
        assert c.get("/fast").json() == {"n": 2}
        assert c.get("/sync").json() == {"n": 3}


def test_blocking_in_test_code_is_not_the_project():
    async def body():
        time.sleep(0.01)
    asyncio.run(body())
'''


def _fastapi_project(root: Path) -> Path:
    return _project(root, {"service/__init__.py": "", "service/main.py": FASTAPI_APP,
                           "tests/test_service.py": FASTAPI_TESTS},
                    "\n[tool.pytest.ini_options]\npythonpath = ['.']\n")


def test_pytest_plugin_attributes_calls_and_lag_to_tests(tmp_path: Path) -> None:
    root = _fastapi_project(tmp_path / "p")
    run, data, text = _verify(root, [PY, "-m", "pytest", "-q", "-p", "no:cacheprovider"])
    assert run.returncode == 0 and run.exit_code == 1
    assert [c["func"] for c in data["calls"]] == ["time.sleep"]
    call = data["calls"][0]
    assert call["frame"]["path"] == "service/main.py" and call["frame"]["function"] == "slow_lookup"
    assert call["site"]["function"] == "slow"
    assert list(call["tests"]) == ["tests/test_service.py::test_slow"]
    per_test = data["lag"]["per_test"]
    assert 140 <= per_test["tests/test_service.py::test_slow"]["max_ms"] <= 260
    assert per_test["tests/test_service.py::test_fast_and_sync"]["max_ms"] < 100
    assert "test_slow" in text


def test_pytest_plugin_needs_no_fixture_and_a_clean_suite_passes(tmp_path: Path) -> None:
    root = _fastapi_project(tmp_path / "p")
    main = root / "service/main.py"
    main.write_text(main.read_text().replace("    return {\"n\": slow_lookup()}",
                                             "    import asyncio\n    return {\"n\": await asyncio.to_thread(slow_lookup)}"))
    run, data, text = _verify(root, [PY, "-m", "pytest", "-q", "-p", "no:cacheprovider"])
    assert data["calls"] == [] and run.exit_code == 0, text


# ----- the static side learns --------------------------------------------------------------------------

VENDOR = '''\
import time


def wait():
    time.sleep(0.01)
'''

USES_VENDOR = '''\
import asyncio

from vendorlib.slow import wait


async def handler():
    wait()


asyncio.run(handler())
'''


def test_a_call_the_scanner_missed_gets_a_catalog_entry_that_teaches_it(tmp_path: Path) -> None:
    files = {"vendorlib/__init__.py": "", "vendorlib/slow.py": VENDOR, "app.py": USES_VENDOR}
    root = _project(tmp_path / "p", files, "\n[tool.asgi-migrate]\nextend-exclude = ['vendorlib']\n")
    _, data, text = _verify(root, [PY, "app.py"])
    (call,) = data["calls"]
    assert call["scan"] == "missed" and call["callee"] == "vendorlib.slow.wait"
    assert data["suggested_blocking_calls"] == ['"vendorlib.slow.wait" = "asyncio.to_thread"']
    assert 'blocking-calls = { "vendorlib.slow.wait" = "asyncio.to_thread" }' in text
    (root / "pyproject.toml").write_text(
        (root / "pyproject.toml").read_text() + 'blocking-calls = { "vendorlib.slow.wait" = "asyncio.to_thread" }\n')
    _, data, _ = _verify(root, [PY, "app.py"])
    (call,) = data["calls"]
    assert call["scan"] == "known" and call["codes"] == ["AM900"]


# ----- allowlist --------------------------------------------------------------------------------------------

def test_allow_entries_cover_library_internals_below_the_project_frame(tmp_path: Path) -> None:
    files = {"vendorlib/__init__.py": "", "vendorlib/slow.py": VENDOR, "app.py": USES_VENDOR}
    root = _project(tmp_path / "p", files, "\n[tool.asgi-migrate]\nextend-exclude = ['vendorlib']\n")
    _, data, _ = _verify(root, [PY, "app.py"], allow=["vendorlib/slow.py:wait"])
    assert data["calls"] == [] and data["allowed"] == {"vendorlib/slow.py:wait": 1}
    # an entry naming frames *above* the project's (the loop that runs it) allows nothing
    _, data, _ = _verify(root, [PY, "app.py"], allow=["asyncio/*:*", "*/threading.py:*"])
    assert [c["func"] for c in data["calls"]] == ["time.sleep"]
    # a project function named explicitly is an accepted decision
    _, data, _ = _verify(root, [PY, "app.py"], allow=["app.py:handler"])
    assert data["calls"] == [] and data["allowed"] == {"app.py:handler": 1}


def test_parse_allow_and_the_documented_defaults(tmp_path: Path) -> None:
    assert parse_allow(["a.py:f,b.py", " "]) == ["a.py:f", "b.py:*"]
    with pytest.raises(VerifyError):
        parse_allow([":f"])
    assert all(":" in entry and why for entry, why in DEFAULT_ALLOW)
    root = _project(tmp_path / "p", {}, "\n[tool.asgi-migrate]\nverify-allow = ['x/y.py:load']\n")
    assert config_allow(root) == ["x/y.py:load"]
    (root / "pyproject.toml").write_text("[tool.asgi-migrate]\nverify-allow = 'x'\n")
    with pytest.raises(VerifyError, match="verify-allow"):
        config_allow(root)


def test_lag_percentiles_merge_histograms() -> None:
    lag = Lag()
    lag.add({"samples": 99, "max_ms": 1.0, "stalls": 0, "hist": {"10": 99}})
    lag.add({"samples": 1, "max_ms": 250.0, "stalls": 1, "hist": {"2500": 1}})
    assert lag.percentile(0.99) == 1.0 and lag.percentile(1.0) == 250.0
    assert lag.as_dict() == {"samples": 100, "max_ms": 250.0, "p99_ms": 1.0, "stalls": 1}


# ----- processes, environment ---------------------------------------------------------------------------

def test_python_subprocesses_report_too_and_sitecustomize_chains(tmp_path: Path) -> None:
    user_site = tmp_path / "usersite"
    user_site.mkdir()
    (user_site / "sitecustomize.py").write_text("import os\nos.environ['USER_SITECUSTOMIZE_RAN'] = '1'\n")
    parent = ("import os, subprocess, sys\n"
              "assert os.environ.get('USER_SITECUSTOMIZE_RAN') == '1'\n"
              "subprocess.run([sys.executable, 'run.py', sys.argv[1]], check=True)\n")
    runner = "import asyncio, sys\nfrom app import main\nasyncio.run(main(sys.argv[1], 9))\n"
    app = BLOCKING_APP.replace("    await connects(port)\n", "")
    root = _project(tmp_path / "p", {"app.py": app, "run.py": runner, "parent.py": parent})
    import os

    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(user_site)
    try:
        run, data, _ = _verify(root, [PY, "parent.py", str(root / "db.sqlite")])
    finally:
        if old is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = old
    assert run.returncode == 0 and data["processes"] == 2
    assert {c["func"] for c in data["calls"]} >= {"time.sleep", "sqlite3.Connection.execute"}


def test_errors_and_the_command_s_own_failure(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", {"ok.py": "import sys\nsys.exit(3)\n"})
    with pytest.raises(VerifyError, match="no command"):
        _verify(root, [])
    with pytest.raises(VerifyError, match="command not found"):
        _verify(root, ["definitely-not-a-command-xyz"])
    with pytest.raises(VerifyError, match="no Python process"):
        _verify(root, ["true"])
    run, data, text = _verify(root, [PY, "ok.py"])
    assert run.exit_code == 1 and data["returncode"] == 3 and data["calls"] == []
    assert "the command itself failed (exit code 3)" in text


# ----- manifest and the command line ------------------------------------------------------------------------

def _cli() -> typer.Typer:
    """A fresh app with verify registered as the lead registers it in cli/app.py."""
    app = typer.Typer()

    @app.callback()
    def _main() -> None:
        pass

    app.command("verify", context_settings=VERIFY_CONTEXT)(verify_command)
    return app


def test_cli_end_to_end_writes_the_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from asgi_migrate.cli.manifest import Manifest, init_project

    root = _project(tmp_path / "p", {"app.py": BLOCKING_APP, "run.py": RUNNER, "clean.py": CLEAN_APP})
    init_project(root)
    monkeypatch.chdir(root)
    runner = CliRunner()
    result = runner.invoke(_cli(), ["verify", "--lag-threshold", "500", "--", PY, "run.py", "db.sqlite"],
                           catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert "time.sleep" in result.output and "app.py:" in result.output
    rec = Manifest.load(root).modules["app.py"]
    assert rec.phases["verify"].state == "failed"
    last = rec.history[-1]
    assert last.phase == "verify" and not last.verify["ok"] and last.verify["command"].endswith("run.py db.sqlite")
    assert any("time.sleep" in b for b in last.verify["blocking"])
    # clean.py has no open finding but is not in the manifest: verifying it is no news
    assert "clean.py" not in Manifest.load(root).modules

    result = runner.invoke(_cli(), ["verify"], catch_exceptions=False)
    assert result.exit_code == 2 and "no command" in result.output

    (root / "app.py").write_text(CLEAN_APP)  # migrated: nothing blocks on the loop any more
    (root / "run.py").write_text("import asyncio, app\nasyncio.run(app.main())\n")
    result = runner.invoke(_cli(), ["verify", "--", PY, "run.py"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rec = Manifest.load(root).modules["app.py"]
    assert rec.phases["verify"].state == "verified" and rec.history[-1].verify["ok"]
    assert rec.history[-1].verify["max_lag_ms"] < 100


def test_cli_passes_options_after_the_command_through(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path / "p", {"echo.py": "import sys, json\nprint(json.dumps(sys.argv[1:]))\n"})
    monkeypatch.chdir(root)
    result = CliRunner().invoke(_cli(), ["verify", "--modules", "echo", PY, "echo.py", "-q", "--modules", "x"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output


def test_a_suppressed_call_is_reported_as_suppressed(tmp_path: Path) -> None:
    app = ("import asyncio, time\n\n\nasync def main():\n    time.sleep(0.001)  # asgi-migrate: ignore[AM150]\n\n\n"
           "asyncio.run(main())\n")
    root = _project(tmp_path / "p", {"app.py": app})
    run, data, _ = _verify(root, [PY, "app.py"])
    (call,) = data["calls"]
    assert call["scan"] == "suppressed" and call["codes"] == ["AM150"] and run.exit_code == 1


def test_verify_allow_in_pyproject(tmp_path: Path) -> None:
    from asgi_migrate.cli import config

    if "verify-allow" not in config._KEYS:
        pytest.skip("cli/config.py does not know [tool.asgi-migrate].verify-allow yet")
    files = {"vendorlib/__init__.py": "", "vendorlib/slow.py": VENDOR, "app.py": USES_VENDOR}
    root = _project(tmp_path / "p", files, "\n[tool.asgi-migrate]\nextend-exclude = ['vendorlib']\n"
                                           "verify-allow = ['vendorlib/slow.py:wait']\n")
    run, data, _ = _verify(root, [PY, "app.py"])
    assert data["calls"] == [] and run.exit_code == 0


def test_a_forked_child_reports_only_its_own_calls(tmp_path: Path) -> None:
    script = '''\
import asyncio, os, time

async def block():
    time.sleep(0.001)

asyncio.run(block())
pid = os.fork()
if pid == 0:
    asyncio.run(block())
    raise SystemExit(0)  # runs atexit, like a worker process ending normally
os.waitpid(pid, 0)
'''
    root = _project(tmp_path / "p", {"app.py": script})
    _, data, _ = _verify(root, [PY, "app.py"])
    assert data["processes"] == 2 and [c["count"] for c in data["calls"]] == [2]

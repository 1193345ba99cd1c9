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
    # A stall of S ms measures between S - interval and S, plus the time the thread needs to run again;
    # with the CPU wait taken out (Linux), within a few ms of the injected stall even on a busy machine.
    upper = 206.0 if lag["cpu_wait_measured"] else 260.0
    assert 197.0 <= lag["max_ms"] <= upper, lag
    assert lag["stalls"] == 1 and run.exit_code == 1
    assert "max loop lag" in text
    # the stall says what ran: the blocking call, and the project frame that made it
    (st,) = lag["longest_stalls"]
    assert st["counted"] and st["ms"] == lag["max_ms"] and st["samples"] >= 5, st
    top = st["stacks"][0]
    assert not top["idle"] and top["count"] >= 0.8 * st["samples"], st
    assert top["frames"][0] == {"path": "blocking call", "line": 0, "function": "time.sleep", "project": False}
    assert {"path": "stall.py", "line": 5, "function": "main", "project": True} in top["frames"]
    assert st["cpu_ms"] < 50, st  # asleep, not computing
    assert "time.sleep (blocking call) <- stall.py:5 (main)" in text


CPU_STALL = '''\
import asyncio, time


def crunch(seconds):
    start = time.thread_time()  # CPU time: a fixed amount of work, however busy the machine is
    n = 0
    while time.thread_time() - start < seconds:
        n += 1
    return n


async def handler():
    await asyncio.sleep(0.03)
    return crunch(0.25)


async def main():
    await asyncio.gather(handler(), asyncio.sleep(0.4))

asyncio.run(main())
'''


def test_a_stall_reports_the_code_that_ran_on_the_loop(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", {"cpu.py": CPU_STALL})
    run, data, text = _verify(root, [PY, "cpu.py"])
    assert data["calls"] == [] and run.exit_code == 1  # no blocking call: only lag tells
    lag = data["lag"]
    (st,) = lag["longest_stalls"]
    assert 240 <= st["ms"] <= 300 and st["ms"] == lag["max_ms"], st
    assert st["cpu_ms"] >= 0.8 * st["ms"], st  # the loop thread was computing
    frames = st["stacks"][0]["frames"]
    assert st["stacks"][0]["count"] >= 0.8 * st["samples"] and st["samples"] >= 10, st
    line = _line(CPU_STALL, "n += 1") if frames[0]["line"] == _line(CPU_STALL, "n += 1") else \
        _line(CPU_STALL, "while time.thread_time()")
    assert frames[0] == {"path": "cpu.py", "line": line, "function": "crunch", "project": True}, frames
    assert frames[1] == {"path": "cpu.py", "line": _line(CPU_STALL, "return crunch"), "function": "handler",
                         "project": True}
    assert f"cpu.py:{line} (crunch) <- " in text and "Loop stalls over 100 ms" in text


def test_stall_lines_summarise_a_sampled_stack() -> None:
    from asgi_migrate.cli.verify import stall_lines

    lib = {"path": "botocore/loaders.py", "line": 175, "function": "load_file", "project": False}
    mine = {"path": "app/storage.py", "line": 80, "function": "get_s3", "project": True}
    task = {"path": "starlette/routing.py", "line": 700, "function": "lifespan", "project": False}
    stall = {"ms": 120.0, "wall_ms": 300.0, "counted": True, "test": "t.py::test_x", "cpu_ms": 110.0,
             "window_ms": 302.0, "cpu_wait_ms": 180.0, "gc_ms": 0.0, "samples": 10, "idle_samples": 1,
             "stacks": [{"count": 9, "idle": False, "frames": [lib, mine, task]},
                        {"count": 1, "idle": True, "frames": []}],
             "others": [{"count": 1, "thread": "worker", "frames": [mine]}]}
    lines = stall_lines(stall)
    assert lines[0] == ("120.0 ms in t.py::test_x: 300.0 ms late, 180 ms of it waiting for a CPU, "
                        "loop thread CPU 110 of 302 ms, 10 sample(s)")
    assert lines[1] == ("  9x botocore/loaders.py:175 (load_file) <- app/storage.py:80 (get_s3) "
                        "<- starlette/routing.py:700 (lifespan)")
    assert lines[2].startswith("  1x idle: the loop was waiting in select")
    assert lines[3] == "  meanwhile worker (busy, 1x): app/storage.py:80 (get_s3)"
    lines = stall_lines(dict(stall, gc_ms=290.0, phase="lifespan.startup"))
    assert lines[0].startswith("120.0 ms in lifespan.startup in t.py::test_x: ") and "GC 290 ms" in lines[0]
    assert lines[1].startswith("  mostly garbage collection: a full collection walks every object")


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
    offloaded = '    import asyncio\n    return {"n": await asyncio.to_thread(slow_lookup)}'
    main.write_text(main.read_text().replace('    return {"n": slow_lookup()}', offloaded))
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
    assert lag.as_dict() == {"samples": 100, "max_ms": 250.0, "p99_ms": 1.0, "stalls": 1, "wall_max_ms": 250.0,
                             "cpu_wait_ms": 0.0}


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


# ----- ASGI lifespan: lag that delays no request ------------------------------------------------------------

LIFESPAN_APP = '''\
import time
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


def crunch(seconds):
    start = time.thread_time()  # CPU work, not a blocking call: only the lag monitor sees it
    n = 0
    while time.thread_time() - start < seconds:
        n += 1
    return n


@asynccontextmanager
async def lifespan(app):
    crunch(0.15)  # e.g. an SDK client building its SSL context on the first call
    yield


async def ok(request):
    return JSONResponse({"ok": True})


async def slow(request):
    crunch(0.15)
    return JSONResponse({"ok": False})


app = Starlette(routes=[Route("/ok", ok), Route("/slow", slow)], lifespan=lifespan)


async def raw_app(scope, receive, send):
    """A bare ASGI app (no Starlette router): only the server's side of the protocol is hooked."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                crunch(0.15)
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})
'''

LIFESPAN_TESTS = '''\
from starlette.testclient import TestClient

from service.main import app, raw_app


def test_ok():
    with TestClient(app) as c:
        assert c.get("/ok").json() == {"ok": True}


def test_raw_ok():
    with TestClient(raw_app) as c:
        assert c.get("/").text == "ok"


def test_slow():
    with TestClient(app) as c:
        assert c.get("/slow").json() == {"ok": False}
'''


def _lifespan_project(root: Path) -> Path:
    return _project(root, {"service/__init__.py": "", "service/main.py": LIFESPAN_APP,
                           "tests/test_service.py": LIFESPAN_TESTS},
                    "\n[tool.pytest.ini_options]\npythonpath = ['.']\n")


def test_lifespan_startup_lag_is_reported_apart_and_not_counted(tmp_path: Path) -> None:
    root = _lifespan_project(tmp_path / "p")
    pytest_cmd = [PY, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    run, data, text = _verify(root, [*pytest_cmd, "-k", "ok"])
    assert run.returncode == 0 and data["calls"] == [], text
    lag, lifespan = data["lag"], data["lag"]["lifespan"]
    # both apps' startups (Starlette's router hooked on the app side, the bare app through TestClient)
    assert lifespan["phases"] == {"startup": 2, "shutdown": 2}, lifespan
    assert lifespan["stalls"] == 2 and 140 <= lifespan["max_ms"] <= 400 and not lifespan["counted"], lifespan
    assert lag["max_ms"] < 100 and lag["stalls"] == 0, lag
    assert run.exit_code == 0, text
    assert all(st["phase"] == "lifespan.startup" for st in lifespan["longest_stalls"])
    st = next(st for st in lifespan["longest_stalls"] if st["test"].endswith("::test_ok"))
    frames = st["stacks"][0]["frames"]
    assert frames[0]["function"] == "crunch" and any(f["function"] == "lifespan" and f["project"] for f in frames)
    assert all(v["max_ms"] < 100 for v in lag["per_test"].values()), lag["per_test"]
    assert "Lag during ASGI lifespan startup/shutdown (2 startup(s), 2 shutdown(s)" in text
    assert "not counted" in text and "in lifespan.startup in tests/test_service.py::test_ok" in text
    assert "verify: passed" in text

    run, data, text = _verify(root, [*pytest_cmd, "-k", "ok"], include_lifespan=True)
    assert run.exit_code == 1 and data["lag"]["lifespan"]["counted"], text
    assert "(lifespan included)" in text


def test_a_stall_in_a_request_handler_still_fails(tmp_path: Path) -> None:
    root = _lifespan_project(tmp_path / "p")
    run, data, text = _verify(root, [PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "test_slow"])
    assert run.returncode == 0 and run.exit_code == 1, text
    lag = data["lag"]
    assert lag["stalls"] == 1 and 140 <= lag["max_ms"] <= 400, lag
    (st,) = lag["longest_stalls"]
    assert "phase" not in st and st["stacks"][0]["frames"][1]["function"] == "slow", st
    assert lag["lifespan"]["stalls"] == 1  # the startup's own stall, apart
    assert "max loop lag" in text


def test_lifespan_phase_classification() -> None:
    from asgi_migrate.cli.verify_sitecustomize import _Lifespan, _new_lag

    class Loop:
        pass

    class Rec:
        phases: dict = {}
        lifespan_phases: dict = {}
        lock = __import__("threading").Lock()

    loop, rec = Loop(), Rec()
    state = _Lifespan.of(loop, rec)  # type: ignore[arg-type]
    assert _Lifespan.of(loop, rec) is state and state.classify(0.0, 1.0) is None  # type: ignore[arg-type]
    state.enter("startup", rec)  # type: ignore[arg-type]
    state.enter("startup", rec)  # type: ignore[arg-type]  # the server's hook and the app's: one phase
    state.leave()
    assert state.classify(state.since, state.since + 0.2) == "startup" and rec.lifespan_phases == {"startup": 1}
    state.leave()
    end = state.spans[-1][1]
    assert state.classify(end - 0.05, end + 0.1) is None  # mostly after startup completed: serving lag
    assert state.classify(end, end) is None and _new_lag()["samples"] == 0


# ----- uvloop ----------------------------------------------------------------------------------------------

UVLOOP_APP = '''\
import asyncio
import time

import uvloop


def crunch(seconds):
    start = time.thread_time()
    n = 0
    while time.thread_time() - start < seconds:
        n += 1
    return n


async def handler():
    await asyncio.sleep(0.03)
    time.sleep(0.01)
    return crunch(0.2)


async def main():
    assert type(asyncio.get_running_loop()).__module__.startswith("uvloop")
    await asyncio.gather(handler(), asyncio.sleep(0.4))


uvloop.run(main())
'''


def test_the_monitor_runs_on_uvloop_too(tmp_path: Path) -> None:
    pytest.importorskip("uvloop")
    root = _project(tmp_path / "p", {"app.py": UVLOOP_APP})
    run, data, text = _verify(root, [PY, "app.py"])
    assert run.returncode == 0 and run.exit_code == 1, text
    assert data["loops"] >= 1 and data["errors"] == [], data
    # blocking calls: the project frame, and nothing above the loop (uvloop has no Python Handle._run)
    (call,) = data["calls"]
    assert call["func"] == "time.sleep" and [f["function"] for f in call["frames"]] == ["handler"], call
    lag = data["lag"]
    (st,) = lag["longest_stalls"]
    assert 190 <= st["ms"] <= 280 and st["ms"] == lag["max_ms"] and lag["stalls"] == 1, st
    assert st["cpu_ms"] >= 0.8 * st["ms"] and st["samples"] >= 10, st
    top = st["stacks"][0]
    assert not top["idle"] and top["frames"][0]["function"] == "crunch", top
    assert top["frames"][-1]["function"] == "handler", top  # the stack ends at the loop, not above it


UVICORN_SERVER = '''\
import asyncio
import sys
import time

import uvicorn


def crunch(seconds):
    start = time.thread_time()
    while time.thread_time() - start < seconds:
        pass


async def app(scope, receive, send):
    """A bare ASGI app: under uvicorn only the server's side of the lifespan protocol is hooked."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            crunch(0.15)
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    crunch(0.002)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def main():
    server = uvicorn.Server(uvicorn.Config(app, port=0, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n")
    print((await reader.read()).split(b"\\r\\n")[0].decode())
    writer.close()
    server.should_exit = True
    await task


if sys.argv[1] == "uvloop":
    import uvloop
    uvloop.run(main())
else:
    asyncio.run(main())
'''


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_uvicorn_lifespan_is_hooked_on_the_server_side(tmp_path: Path, loop: str,
                                                       capfd: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("uvicorn")
    if loop == "uvloop":
        pytest.importorskip("uvloop")
    root = _project(tmp_path / "p", {"server.py": UVICORN_SERVER})
    run, data, text = _verify(root, [PY, "server.py", loop])
    assert "HTTP/1.1 200 OK" in capfd.readouterr().out and run.returncode == 0
    lifespan = data["lag"]["lifespan"]
    assert lifespan["phases"] == {"startup": 1, "shutdown": 1} and lifespan["stalls"] == 2, lifespan
    assert {st["phase"] for st in lifespan["longest_stalls"]} == {"lifespan.startup", "lifespan.shutdown"}
    assert data["lag"]["max_ms"] < 100 and data["calls"] == [] and run.exit_code == 0, text

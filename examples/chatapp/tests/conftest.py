"""Real backing services on loopback for the behaviour tests.

Started once per session: a SQLite file, a ``redis-server`` process, an S3
endpoint (moto's server, in a process of its own) and a tiny deterministic completion server.
The environment is set before ``app.main`` is imported, because the app reads
its settings at import time.

With ``ASGI_MIGRATE_BLOCKBUSTER=1`` every test runs under blockbuster, scanning
the ``app`` package only: any blocking call the app makes while the event loop
is running raises ``BlockingError`` and the test fails.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

BLOCKBUSTER = os.environ.get("ASGI_MIGRATE_BLOCKBUSTER", "") not in ("", "0", "false", "no")
HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited early with code {proc.returncode}")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {HOST}:{port} after {timeout}s")


# --------------------------------------------------------------------------- fake LLM


class FakeCompletionServer(ThreadingHTTPServer):
    """Answers POST /v1/completions with ``reply: <last user message>``.

    A user message containing ``[flaky]`` gets one 503 before it succeeds, to
    exercise the client's retry loop. ``latency`` simulates a slow model.
    """

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__((HOST, 0), _CompletionHandler)
        self.latency = float(os.environ.get("FAKE_LLM_LATENCY", "0"))
        self.prompts: list[str] = []
        self.failures: int = 0
        self._failed_once: set[str] = set()
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server_address[1]}"


class _CompletionHandler(BaseHTTPRequestHandler):
    server: FakeCompletionServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, code: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        if self.path != "/v1/completions":
            self._send(404, {"error": "not found"})
            return
        length = int(self.headers.get("Content-Length", "0"))
        prompt = json.loads(self.rfile.read(length))["prompt"]
        user_lines = [line for line in prompt.splitlines() if line.startswith("user: ")]
        last = user_lines[-1][len("user: ") :] if user_lines else ""
        with self.server.lock:
            if "[flaky]" in last and prompt not in self.server._failed_once:
                self.server._failed_once.add(prompt)
                self.server.failures += 1
                fail = True
            else:
                self.server.prompts.append(prompt)
                fail = False
        if fail:
            self._send(503, {"error": "overloaded"})
            return
        if self.server.latency:
            time.sleep(self.server.latency)
        self._send(200, {"object": "text_completion", "choices": [{"index": 0, "text": f" reply: {last}"}]})


# --------------------------------------------------------------------------- services


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip(
            "redis-server not found on PATH: install it (apt-get install redis-server) to run these tests"
        )
    port = _free_port()
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            HOST,
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, timeout=10, proc=proc)
        yield f"redis://{HOST}:{port}/0"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    # A process of its own, like a real S3 endpoint: moto in a thread of the test process would share the
    # GIL with the app's event loop and show up as loop lag that is not the app's.
    import sys

    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_port(port, timeout=30, proc=proc)
        yield f"http://{HOST}:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture(scope="session")
def llm_server() -> Iterator[FakeCompletionServer]:
    server = FakeCompletionServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def app(
    tmp_path_factory: pytest.TempPathFactory,
    redis_url: str,
    s3_endpoint: str,
    llm_server: FakeCompletionServer,
) -> Iterator[Any]:
    """The FastAPI app, imported after its environment points at the test services."""
    data: Path = tmp_path_factory.mktemp("chatapp")
    env = {
        "DATABASE_URL": f"sqlite:///{data / 'chat.db'}",
        "REDIS_URL": redis_url,
        "S3_ENDPOINT_URL": s3_endpoint,
        "S3_BUCKET": "chatapp-test-transcripts",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "LLM_BASE_URL": llm_server.url,
        "LLM_TIMEOUT": "5",
        "TRANSCRIPT_DIR": str(data / "transcripts"),
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        # Import (or re-import) the whole package so module-level settings and
        # clients (engine, boto3, redis, completion client) see this environment.
        import sys

        for name in [m for m in sys.modules if m == "app" or m.startswith("app.")]:
            del sys.modules[name]
        yield importlib.import_module("app.main").app
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def client(app: Any) -> Iterator[Any]:
    """A TestClient with the app's lifespan run (tables, bucket) for each test."""
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c


# --------------------------------------------------------------------------- blockbuster


@pytest.fixture(autouse=True)
def _blockbuster(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail on blocking calls made by ``app`` on a running event loop.

    Activated after the other fixtures of the test (services, the app's startup
    in ``client``) so that only the test's own requests are checked; a test
    that wants the lifespan checked starts its own TestClient in its body.
    """
    if not BLOCKBUSTER:
        yield
        return
    for name in request.fixturenames:
        if name != "_blockbuster":
            request.getfixturevalue(name)
    from blockbuster import blockbuster_ctx

    with blockbuster_ctx(scanned_modules=["app"]):
        yield


# Summary of what blockbuster caught: for each failing test, the blocking
# function and the deepest frame in the app package that led to it.

_APP_DIR = str(Path(__file__).resolve().parent.parent / "app") + os.sep
_caught: list[tuple[str, str, str]] = []


def _app_location(exc: BaseException) -> str | None:
    tb = exc.__traceback__
    location = None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.startswith(_APP_DIR):
            rel = os.path.relpath(filename, Path(_APP_DIR).parent)
            location = f"{rel}:{tb.tb_lineno} ({tb.tb_frame.f_code.co_name})"
        tb = tb.tb_next
    return location


def _blocking_errors(exc: BaseException | None) -> list[BaseException]:
    found: list[BaseException] = []
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if type(exc).__name__ == "BlockingError":
            found.append(exc)
        exc = exc.__cause__ or exc.__context__
    return found


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if BLOCKBUSTER and call.excinfo is not None:
        errors = _blocking_errors(call.excinfo.value)
        if errors:
            first = errors[-1]  # the root of the chain: the call that blocked first
            where = _app_location(first) or _app_location(errors[0]) or "?"
            names = list(dict.fromkeys(str(e).removeprefix("Blocking call to ") for e in reversed(errors)))
            _caught.append((item.nodeid, ", then ".join(names), where))
    return report


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _caught:
        return
    terminalreporter.section("blocking calls caught by blockbuster (per failing test)")
    for nodeid, message, where in _caught:
        terminalreporter.write_line(f"{nodeid.split('::')[-1]}: {where}: blocking call to {message}")

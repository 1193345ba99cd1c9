#!/usr/bin/env python3
"""Load/latency benchmark: does a heavy route freeze the event loop for everyone?

    python benchmarks/load_latency.py APP_DIR [--heavy 10,50] [--light-requests 200]
                                      [--llm-latency 0.2] [--label before] [--json OUT]
                                      [--timeout S] [--app-log FILE]

APP_DIR is a copy of the example chat service (``examples/chatapp``, or a copy
rewritten by ``asgi-migrate offload --write``): a folder with an ``app``
package whose ``app.main:app`` is the FastAPI app and whose settings come from
the environment (see ``examples/chatapp/app/config.py``).

What it does, all on 127.0.0.1 with free ports:

1. starts the backing services, the same ones as the example's
   ``tests/conftest.py`` (re-implemented here, so the benchmark needs neither
   pytest nor a particular copy of the tests): a ``redis-server`` process,
   moto's ``ThreadedMotoServer`` for S3, a deterministic fake completion (LLM)
   server that answers after ``--llm-latency`` seconds, and a temporary folder
   for the SQLite file and the transcripts;
2. starts the app with ``python -m uvicorn app.main:app --workers 1`` in a
   subprocess (cwd=APP_DIR), with ``RATE_LIMIT_PER_MINUTE`` raised so the
   rate limit never answers 429;
3. creates one conversation, then for each heavy level N: fires N concurrent
   ``POST /conversations/{id}/messages`` (Redis rate limit, SQLite, the LLM
   call, Redis cache, transcript file) while a light client sends sequential
   ``GET /health`` requests (a small pause between them) until the burst ends
   or ``--light-requests`` is reached. A first row (heavy 0) measures
   ``/health`` with no load, as the reference.

On an app whose ``async def`` routes make blocking calls, every heavy request
holds the single event loop for the whole LLM round trip, so ``/health`` waits
behind them: its p99 grows with N. Once the blocking calls run in threads,
``/health`` stays in the low milliseconds.

Every request has a timeout (``--timeout``; by default it grows with N). A
``/health`` that fails still counts in the light figures with the time it took,
and a figure that comes from such a failure is printed with ``>`` (a lower
bound). The levels run in order against one server: a level that ends on
timeouts may leave the app stuck for a while and spill into the next one, so
list levels in increasing order. The exit status is 1 when any request failed.

Every process it starts is stopped at the end (also on errors, Ctrl-C or
SIGTERM): uvicorn and redis-server run in their own process groups and are
killed by group. Nothing is written under APP_DIR (no bytecode either).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
REPO_ROOT = Path(__file__).resolve().parent.parent


def _ensure_deps() -> None:
    """Re-run under the repository's venv when httpx/moto are not importable here."""
    try:
        import httpx  # noqa: F401
        import moto.server  # noqa: F401
    except ImportError as exc:
        venv_python = REPO_ROOT / ".venv" / "bin" / "python"
        in_that_venv = Path(sys.prefix).resolve() == venv_python.parent.parent.resolve()
        if venv_python.exists() and not in_that_venv and not os.environ.get("LOAD_LATENCY_REEXEC"):
            os.environ["LOAD_LATENCY_REEXEC"] = "1"
            print(f"({exc.name} missing in {sys.executable}; re-running with {venv_python})", file=sys.stderr)
            os.execv(str(venv_python), [str(venv_python), *sys.argv])
        sys.exit(
            f"load_latency: needs httpx and moto[server] (missing: {exc.name}); pip install httpx 'moto[server]'"
        )


# --------------------------------------------------------------------------- helpers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
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


def stop_group(proc: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    """SIGTERM the process group started with ``start_new_session``, then SIGKILL."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    # The leader may be gone while children of its group linger: always sweep.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass


def percentile(sorted_values: list[Any], p: float) -> Any:
    """Nearest-rank percentile (p in 0..100) of an already sorted, non-empty list."""
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


# --------------------------------------------------------------------------- services


class FakeCompletionServer(ThreadingHTTPServer):
    """POST /v1/completions -> ``reply: <last user message>`` after ``latency`` seconds."""

    daemon_threads = True
    request_queue_size = 256

    def __init__(self, latency: float) -> None:
        super().__init__((HOST, 0), _CompletionHandler)
        self.latency = latency
        self.calls = 0
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
            self.server.calls += 1
        if self.server.latency:
            time.sleep(self.server.latency)
        self._send(200, {"object": "text_completion", "choices": [{"index": 0, "text": f" reply: {last}"}]})


@contextmanager
def redis_server(workdir: Path) -> Iterator[str]:
    binary = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if binary is None:
        raise SystemExit("load_latency: redis-server not found (apt-get install redis-server)")
    port = free_port()
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
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_port(port, timeout=10, proc=proc)
        yield f"redis://{HOST}:{port}/0"
    finally:
        stop_group(proc)


@contextmanager
def s3_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request log lines
    port = free_port()
    server = ThreadedMotoServer(ip_address=HOST, port=port, verbose=False)
    server.start()
    try:
        wait_for_port(port, timeout=15)
        yield f"http://{HOST}:{port}"
    finally:
        server.stop()


@contextmanager
def llm_server(latency: float) -> Iterator[FakeCompletionServer]:
    server = FakeCompletionServer(latency)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def app_server(
    app_dir: Path, python: str, env: dict[str, str], log_path: Path, startup_timeout: float
) -> Iterator[str]:
    port = free_port()
    cmd = [
        python,
        "-m",
        "uvicorn",
        "app.main:app",
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        "1",
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd, cwd=app_dir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_for_port(port, timeout=startup_timeout, proc=proc)
        base = f"http://{HOST}:{port}"
        import httpx

        deadline = time.monotonic() + startup_timeout
        while True:  # the port opens before the lifespan (tables, bucket) is done
            if proc.poll() is not None:
                raise RuntimeError(f"uvicorn exited with code {proc.returncode}")
            try:
                if httpx.get(f"{base}/health", timeout=2, trust_env=False).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("the app did not answer /health in time")
            time.sleep(0.1)
        yield base
    finally:
        stop_group(proc)


# --------------------------------------------------------------------------- the measurement


async def measure_level(
    base: str,
    conversation_id: int,
    heavy: int,
    light_cap: int,
    light_interval: float,
    heavy_timeout: float,
    tag: str,
) -> dict[str, Any]:
    import httpx

    light_lat: list[tuple[float, bool]] = []  # (elapsed s, failed)
    light_errors = 0
    heavy_errors = 0
    heavy_ok = 0
    heavy_lat: list[float] = []
    error_kinds: Counter[str] = Counter()
    heavy_done = asyncio.Event()

    async def one_heavy(client: httpx.AsyncClient, i: int) -> None:
        nonlocal heavy_errors, heavy_ok
        content = f"{tag} n={heavy} #{i}"
        t0 = time.perf_counter()
        try:
            r = await client.post(
                f"{base}/conversations/{conversation_id}/messages", json={"content": content}
            )
            ok = r.status_code == 201 and r.json()["assistant"]["content"].startswith("reply: ")
            if not ok:
                error_kinds[f"heavy HTTP {r.status_code}"] += 1
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            ok = False
            error_kinds[f"heavy {type(exc).__name__}"] += 1
        heavy_lat.append(time.perf_counter() - t0)
        if ok:
            heavy_ok += 1
        else:
            heavy_errors += 1

    async def light_loop(client: httpx.AsyncClient) -> None:
        nonlocal light_errors
        while len(light_lat) < light_cap:
            if heavy and heavy_done.is_set():
                break
            t0 = time.perf_counter()
            failed = True
            try:
                r = await client.get(f"{base}/health")
                failed = r.status_code != 200
                if failed:
                    light_errors += 1
                    error_kinds[f"light HTTP {r.status_code}"] += 1
            except httpx.HTTPError as exc:
                light_errors += 1
                error_kinds[f"light {type(exc).__name__}"] += 1
            # Failed attempts count too: a timed-out /health is a lower bound on
            # its latency, and leaving it out would flatter a frozen loop.
            light_lat.append((time.perf_counter() - t0, failed))
            if light_interval:
                await asyncio.sleep(light_interval)

    limits = httpx.Limits(max_connections=max(heavy, 1), max_keepalive_connections=max(heavy, 1))
    async with (
        httpx.AsyncClient(timeout=heavy_timeout, limits=limits, trust_env=False) as heavy_client,
        httpx.AsyncClient(timeout=heavy_timeout, trust_env=False) as light_client,
    ):
        # One keep-alive connection for the light client, opened before the burst,
        # so what is measured is the server's response time, not connection setup.
        await light_client.get(f"{base}/health")
        t_start = time.perf_counter()
        heavy_wall = 0.0
        if heavy:

            async def burst() -> None:
                nonlocal heavy_wall
                try:
                    await asyncio.gather(*(one_heavy(heavy_client, i) for i in range(heavy)))
                finally:
                    heavy_wall = time.perf_counter() - t_start
                    heavy_done.set()

            burst_task = asyncio.create_task(burst())
            await asyncio.sleep(0)  # let the burst start sending first
            await light_loop(light_client)
            await burst_task
        else:
            await light_loop(light_client)
        light_span = time.perf_counter() - t_start

    lat = sorted(light_lat)
    light_stats = {"light_p50_ms": 50, "light_p99_ms": 99, "light_max_ms": 100}
    picked = {key: percentile(lat, p) for key, p in light_stats.items()} if lat else {}

    def ms(v: float) -> float:
        return round(v * 1000, 2)

    return {
        "heavy": heavy,
        "light_requests": len(light_lat),
        "light_ok": len(light_lat) - light_errors,
        **{key: ms(picked[key][0]) if lat else None for key in light_stats},
        # Figures that come from a failed (timed-out) /health: true latency was higher.
        "lower_bounds": [key for key in light_stats if lat and picked[key][1]],
        "light_span_s": round(light_span, 3),
        "heavy_ok": heavy_ok,
        "heavy_wall_s": round(heavy_wall, 3) if heavy else None,
        "heavy_rps": round(heavy_ok / heavy_wall, 2) if heavy and heavy_wall > 0 else None,
        "heavy_p50_s": round(percentile(sorted(heavy_lat), 50), 3) if heavy_lat else None,
        "heavy_max_s": round(max(heavy_lat), 3) if heavy_lat else None,
        "heavy_errors": heavy_errors,
        "light_errors": light_errors,
        "errors": heavy_errors + light_errors,
        "error_kinds": dict(error_kinds),
        "timeout_s": heavy_timeout,
    }


async def run_benchmark(
    base: str, args: argparse.Namespace, levels: list[int], llm: FakeCompletionServer
) -> list[dict[str, Any]]:
    import httpx

    async with httpx.AsyncClient(timeout=30, trust_env=False) as client:
        r = await client.post(f"{base}/conversations", json={"title": f"load-latency {args.label}"})
        if r.status_code != 201:
            raise RuntimeError(f"POST /conversations -> {r.status_code}: {r.text[:300]}")
        cid = int(r.json()["id"])
        # Warm-up: first heavy request pays imports, the sqlite connection pool, etc.
        r = await client.post(f"{base}/conversations/{cid}/messages", json={"content": "warm-up"})
        if r.status_code != 201:
            raise RuntimeError(
                f"warm-up POST /conversations/{cid}/messages -> {r.status_code}: {r.text[:300]}"
            )

    results = []
    tag = f"{args.label}-{os.getpid()}"
    for n in levels:
        calls_before = llm.calls
        heavy_timeout = args.timeout or max(15.0, 2 * n * (args.llm_latency + 0.05) + 10)
        cap = min(args.light_requests, 50) if n == 0 else args.light_requests
        res = await measure_level(base, cid, n, cap, args.light_interval, heavy_timeout, tag)
        res["llm_calls"] = llm.calls - calls_before
        res["label"] = args.label
        results.append(res)
        print_row(res)
        await asyncio.sleep(0.3)  # let stragglers (threads, sockets) settle between levels
    return results


# --------------------------------------------------------------------------- output

COLUMNS = [
    ("label", "label", "{}"),
    ("heavy", "heavy N", "{}"),
    ("light_requests", "light reqs", "{}"),
    ("light_p50_ms", "light p50 ms", "{:.1f}"),
    ("light_p99_ms", "light p99 ms", "{:.1f}"),
    ("light_max_ms", "light max ms", "{:.1f}"),
    ("heavy_wall_s", "heavy wall s", "{:.2f}"),
    ("heavy_rps", "heavy req/s", "{:.1f}"),
    ("errors", "errors", "{}"),
]


def _cell(res: dict[str, Any], key: str, fmt: str) -> str:
    v = res.get(key)
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return (">" if key in res.get("lower_bounds", ()) else "") + fmt.format(v)


def _widths() -> list[int]:
    return [max(len(title), 12 if key != "label" else 10) for key, title, _ in COLUMNS]


def print_header() -> None:
    w = _widths()
    print("  ".join(title.rjust(w[i]) for i, (_, title, _) in enumerate(COLUMNS)))
    print("  ".join("-" * w[i] for i in range(len(COLUMNS))))


def print_row(res: dict[str, Any]) -> None:
    w = _widths()
    print("  ".join(_cell(res, k, f).rjust(w[i]) for i, (k, _, f) in enumerate(COLUMNS)), flush=True)
    if res.get("error_kinds"):
        kinds = ", ".join(f"{k} x{v}" for k, v in res["error_kinds"].items())
        print(f"    errors: {kinds} (timeout {res['timeout_s']:g}s)", flush=True)


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "app_dir", type=Path, help="folder holding the app package (app.main:app), e.g. examples/chatapp"
    )
    p.add_argument(
        "--heavy", default="10,50", help="comma-separated heavy concurrency levels (default: 10,50)"
    )
    p.add_argument(
        "--light-requests",
        type=int,
        default=200,
        help="at most this many /health requests per level (default: 200; 50 for the idle row)",
    )
    p.add_argument(
        "--light-interval", type=float, default=0.01, help="pause between /health requests, s (default: 0.01)"
    )
    p.add_argument(
        "--llm-latency", type=float, default=0.2, help="fake completion server latency, s (default: 0.2)"
    )
    p.add_argument("--label", default=None, help="name for this run in the table (default: APP_DIR's name)")
    p.add_argument("--json", type=Path, default=None, metavar="OUT", help="write the figures to OUT as JSON")
    p.add_argument("--no-idle", action="store_true", help="skip the heavy=0 reference row")
    p.add_argument(
        "--python",
        default=sys.executable,
        help="interpreter that runs uvicorn and the app (default: this one)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="per-request timeout, s (default: max(15, 2*N*(llm latency + 0.05) + 10) for level N)",
    )
    p.add_argument("--app-log", type=Path, default=None, metavar="FILE", help="copy uvicorn's output to FILE")
    p.add_argument(
        "--log-tail",
        type=int,
        default=20,
        help="lines of uvicorn output printed when something failed (default: 20; 0: none)",
    )
    p.add_argument(
        "--startup-timeout", type=float, default=30.0, help="seconds to wait for the app (default: 30)"
    )
    args = p.parse_args(argv)
    try:
        args.levels = [int(x) for x in args.heavy.split(",") if x.strip()]
    except ValueError:
        p.error(f"--heavy: expected comma-separated integers, got {args.heavy!r}")
    if any(n < 1 or n > 1000 for n in args.levels):
        p.error("--heavy levels must be between 1 and 1000")
    if not 1 <= args.light_requests <= 100_000:
        p.error("--light-requests must be between 1 and 100000")
    if args.llm_latency < 0 or args.llm_latency > 30:
        p.error("--llm-latency must be between 0 and 30")
    args.app_dir = args.app_dir.resolve()
    if not (args.app_dir / "app" / "main.py").is_file():
        p.error(f"{args.app_dir} has no app/main.py")
    if args.label is None:
        args.label = args.app_dir.name
    return args


def _on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _ensure_deps()
    signal.signal(signal.SIGTERM, _on_sigterm)
    levels = ([] if args.no_idle else [0]) + args.levels

    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="load-latency-")))
        log_path = tmp / "uvicorn.log"
        ok = False
        results: list[dict[str, Any]] = []
        try:
            redis_url = stack.enter_context(redis_server(tmp))
            s3_url = stack.enter_context(s3_server())
            llm = stack.enter_context(llm_server(args.llm_latency))
            env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
            env.update(
                {
                    "DATABASE_URL": f"sqlite:///{tmp / 'chat.db'}",
                    "REDIS_URL": redis_url,
                    "S3_ENDPOINT_URL": s3_url,
                    "S3_BUCKET": "load-latency-transcripts",
                    "AWS_REGION": "us-east-1",
                    "AWS_ACCESS_KEY_ID": "testing",
                    "AWS_SECRET_ACCESS_KEY": "testing",
                    "AWS_SESSION_TOKEN": "testing",
                    "LLM_BASE_URL": llm.url,
                    "LLM_TIMEOUT": "30",
                    "TRANSCRIPT_DIR": str(tmp / "transcripts"),
                    "RATE_LIMIT_PER_MINUTE": "100000000",
                    "NO_PROXY": "127.0.0.1,localhost",
                    "PYTHONDONTWRITEBYTECODE": "1",
                    "PYTHONUNBUFFERED": "1",
                }
            )
            base = stack.enter_context(
                app_server(args.app_dir, args.python, env, log_path, args.startup_timeout)
            )
            print(
                f"# {args.label}: {args.app_dir} on {base}, one uvicorn worker; fake LLM latency "
                f"{args.llm_latency}s; light = sequential GET /health every {args.light_interval * 1000:g} ms "
                f"during the burst; {os.cpu_count()} CPUs",
                flush=True,
            )
            print_header()
            t0 = time.monotonic()
            results = asyncio.run(run_benchmark(base, args, levels, llm))
            elapsed = time.monotonic() - t0
            ok = True
        finally:
            if args.app_log and log_path.exists():
                shutil.copyfile(log_path, args.app_log)
            had_errors = not ok or any(r["errors"] for r in results)
            if had_errors and args.log_tail and log_path.exists():
                tail = log_path.read_text(errors="replace").splitlines()[-args.log_tail :]
                if tail:
                    print(f"--- uvicorn output, last {len(tail)} lines ---", file=sys.stderr)
                    print("\n".join(tail), file=sys.stderr)

    if args.json:
        payload = {
            "label": args.label,
            "app_dir": str(args.app_dir),
            "llm_latency_s": args.llm_latency,
            "light_interval_s": args.light_interval,
            "light_requests_cap": args.light_requests,
            "python": args.python,
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "elapsed_s": round(elapsed, 2),
            "levels": results,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 1 if any(r["errors"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())

"""The probe ``asgi-migrate verify`` runs inside the user's command: blocking calls and loop lag.

Why self-contained (stdlib and blockbuster only, never ``asgi_migrate``): verify copies this file into
a temporary folder put first on the child's ``PYTHONPATH`` (as ``_asgi_migrate_verify``, next to a
generated ``sitecustomize.py`` that calls ``install_from_env``), so it runs in whatever interpreter the
command starts, including a project virtualenv where asgi-migrate itself is not installed. No user file
is edited.

Why record instead of raise: blockbuster (1.5) has no handler hook, it raises ``BlockingError`` from
its wrapper, and an exception in the middle of a request changes what the program does next (the
request fails, later calls never happen, the tests fail for the wrong reason). So blockbuster's own
table of blocking functions is used (each ``BlockBusterFunction``: which function, its
``can_block_predicate`` that tells a non-blocking socket or stdout write from a real one, its
``can_block_functions`` list of known-safe callers) and its patching rules (``setattr``, or
forbiddenfruit for C types; ``deactivate`` restores), but the wrapper installed is ours: on a
running loop, from a project frame, it records the call (who, where, how long) and lets it proceed.

What counts as "on the loop, from the project": the wrapper walks the stack from the blocked call up
to the loop's callback boundary (``asyncio.events.Handle._run``); frames above it (the code that
started the loop: pytest's runner, ``asyncio.run``) are not what runs on the loop and are ignored.
A call is recorded when a frame of the project's modules (files given by the parent) is below the
boundary and no allowlisted frame (``FILE:FUNC``) sits between the blocked function and the innermost
project function: the allowlist names library internals the project calls into (a metadata lookup, a
test client's transport), never the frames that merely started the project's code (pytest's runner,
TestClient's portal, which are above every call). Module-level project code counts as "below" too, so
an import done lazily on the loop (``_find_and_load`` above it) can be allowed.

Loop lag: ``BaseEventLoop.run_forever`` is wrapped so that every loop, in any thread (FastAPI's
``TestClient`` runs the app in an anyio portal thread), runs a chain of timer callbacks
``interval`` apart; each records how late it ran. A stall of S ms shows as a lag between
S - interval and S. The timers are plain handles, not tasks: ``asyncio.all_tasks()`` does not see
them and they never keep a loop alive.

Waiting for a CPU is not the program's lag: on a busy machine (CI runners, a laptop compiling) the loop
thread is often runnable but not scheduled, and a timer 2 ms apart runs 100 ms late although the loop
did nothing wrong. On Linux each loop thread's ``/proc/thread-self/schedstat`` (time runnable but
waiting for a CPU) is read at every timer (one ``pread``, about 3 us), and the lag counted is the
lateness minus that wait (``max``, ``p99``, stalls and the threshold use it); the raw figure is kept as
``wall_max_ms`` and the subtracted total as ``cpu_wait_ms``. Waiting for the GIL is not subtracted as
such (a thread waiting for the GIL sleeps, it is not runnable): another thread of the process holding
the GIL is the program's own lag. But the GIL holder may itself be waiting for a CPU; so for a timer
late by more than the trigger, the longest CPU wait of any other thread of the process since the
watchdog's last reading before the stall (every thread's schedstat, read every ~trigger ms while no
loop is late) is subtracted too, at most the time the loop thread was neither running nor waiting for
a CPU (asleep: in ``select``, a blocking call or on the GIL), and only for the fraction of the stall
the watchdog could not sample (it needs the GIL: a loop asleep in a blocking call leaves the GIL free
and is sampled all along, and that sleep is the program's). That part is an estimate (the baseline
can be up to one trigger older than the stall, and the thread that waited need not be the one
holding the GIL); the raw lateness of every stall is reported next to it. Without schedstat the lag counted is the raw
lateness.

What ran during a stall: a lag figure alone says *that* the loop stalled, not *why*. One watchdog
thread per process watches every monitored loop; when a loop's next timer is late by more than a
trigger (a quarter of the threshold), it samples that loop thread's stack (``sys._current_frames()``)
every few ms until the timer runs. When the timer's lag is over the threshold, the stall is kept
with its samples (identical stacks counted, the frames below the loop's callback boundary, innermost
first), the loop thread's CPU time during the stall (``time.thread_time`` between two timers: close
to the stall means code ran on the loop, near zero means the thread was waiting: a blocking syscall,
the GIL held by another thread, or no CPU for the process) and the time spent in the garbage
collector (``gc.callbacks``). A sample outside any callback (the loop in ``select``) is "idle": then
the busy stacks of the process's other threads are sampled too, since one of them (or another
process) had the CPU. The watchdog sleeps until the earliest moment a loop could be late by the
trigger, so it wakes about every ``trigger`` ms, not every interval. A stall inside one C call that
holds the GIL cannot be sampled (the watchdog needs the GIL too): it shows with CPU time and no
samples.

uvloop: ``uvloop.Loop`` does not inherit ``BaseEventLoop.run_forever``; its ``run_forever`` is wrapped the
same way when uvloop is imported (a post-import hook, ``_POST_IMPORT``). Its callbacks run from C, with no
``Handle._run`` frame: the stack walks stop at our ``run_forever`` wrapper instead.

ASGI lifespan: a timer whose lateness falls (at least half of it) in a lifespan startup or shutdown is
kept apart (``lifespan`` in the results): no request is served then, so the parent does not count it by
default. The phase is marked on the loop that runs it, from both sides of the protocol, hooked when the
module is imported: the app's (Starlette's ``Router.lifespan``: from receiving ``lifespan.startup`` or
``.shutdown`` to sending ``.complete``/``.failed``) and the server's (uvicorn's ``LifespanOn.startup`` and
``shutdown``, TestClient's ``wait_startup`` and ``wait_shutdown``); nested marks count once.

Results: one JSON file per process (``<results>/<pid>.json``), written at exit (and by the pytest
plugin at ``pytest_unconfigure``); Python subprocesses inherit the environment and report too.
"""

from __future__ import annotations

import _thread
import atexit
import fnmatch
import gc
import json
import os
import signal
import sys
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

ENV = "ASGI_MIGRATE_VERIFY_CONFIG"
_EVENTS_FILE = "asyncio/events.py"
_CO_ASYNC = 0x80 | 0x200  # CO_COROUTINE | CO_ASYNC_GENERATOR
_MAX_FRAMES = 12  # project frames kept per record (innermost first)
_MAX_TESTS = 20  # test ids kept per record
_MAX_STALLS = 50  # stalls kept (the longest)
_MAX_STACK = 40  # frames kept per sampled stack (innermost first)
_MAX_STACKS = 5  # distinct stacks kept per stall (the most sampled)
_MAX_SAMPLES = 400  # samples kept per stall (a stall of seconds is sampled at the start)
_sleep = time.sleep  # captured before blockbuster's table is patched: the watchdog's own waits
_monotonic = time.monotonic
_thread_time = getattr(time, "thread_time", None)
_pread = getattr(os, "pread", None)  # the original: blockbuster's table patches os.read, not this
_listdir = os.listdir  # the original, captured before blockbuster's table is patched
_PROBE_FILE = __file__.replace("\\", "/")
_SCHEDSTAT = "/proc/thread-self/schedstat"  # Linux: ns on a CPU, ns runnable but waiting for one, slices


class _Skip(threading.local):
    value = False


_skip = _Skip()
_state: Recorder | None = None


def _norm(path: str) -> str:
    return path.replace("\\", "/")


class _Allow:
    """One allowlist entry, ``FILE:FUNC``: FILE a path suffix (at a ``/`` boundary) or a glob, FUNC a
    glob on the function's name or qualified name."""

    def __init__(self, entry: str) -> None:
        self.entry = entry
        file, sep, func = entry.rpartition(":")
        if not sep or not file:
            file, func = entry, "*"
        self.file = _norm(file)
        self.func = func or "*"
        self.glob = any(c in self.file for c in "*?[") and not self.file.startswith("<")

    def matches_file(self, filename: str) -> bool:
        if self.glob:
            return fnmatch.fnmatchcase(filename, self.file) or fnmatch.fnmatchcase(filename, "*/" + self.file)
        return filename == self.file or filename.endswith("/" + self.file)

    def matches_code(self, code: Any) -> bool:
        if self.func == "*":
            return True
        return fnmatch.fnmatchcase(code.co_name, self.func) or \
            fnmatch.fnmatchcase(getattr(code, "co_qualname", code.co_name), self.func)


class Recorder:
    """Blocking calls and lag samples of this process; every method is safe from any thread."""

    def __init__(self, cfg: dict[str, Any]) -> None:
        self.root = os.path.realpath(cfg.get("root") or os.getcwd())
        self.files = {os.path.realpath(p) for p in cfg.get("files", [])}
        self.prefixes = tuple(os.path.join(os.path.realpath(p), "") for p in cfg.get("prefixes", []))
        located = [_locate(name) for name in cfg.get("modules", [])]
        self.prefixes += tuple(p for p in located if p)
        self.errors = [f"module {n!r} (--modules) not found on this process's sys.path"
                       for n, p in zip(cfg.get("modules", []), located) if not p]
        self.allow = [_Allow(e) for e in cfg.get("allow", [])]
        self.threshold = float(cfg.get("threshold_ms", 100.0))
        self.interval = float(cfg.get("interval_ms", 2.0)) / 1000.0
        self.results_dir = cfg.get("results_dir") or ""
        self.lock = _thread.allocate_lock()
        self.calls: dict[tuple, dict[str, Any]] = {}
        self.allowed: dict[str, int] = {}
        self.lag: dict[str, Any] = _new_lag()
        self.per_test: dict[str, dict[str, Any]] = {}
        self.stalls: list[dict[str, Any]] = []
        self.lifespan_lag: dict[str, Any] = _new_lag()  # samples taken while a lifespan startup/shutdown ran
        self.lifespan_stalls: list[dict[str, Any]] = []
        self.lifespan_phases = {"startup": 0, "shutdown": 0}
        self.phases: dict[int, _Lifespan] = {}  # id(loop) -> its lifespan state (checked against a weakref)
        self.loops = 0
        # the stall sampler: start sampling a loop late by `trigger`, then every `sample_every`
        self.trigger = max(self.threshold / 4.0, 4 * self.interval * 1000.0) / 1000.0
        self.sample_every = min(max(self.threshold / 40.0, 1.0), 5.0) / 1000.0
        self.monitors: set[_Monitor] = set()
        self.watchdog: _Watchdog | None = None
        self.gc_seconds = 0.0  # time in the garbage collector, any thread (it holds the GIL)
        self._gc_started = 0.0
        self._described: dict[Any, tuple[str, str, bool]] = {}
        self.cpu_wait_measured = False
        self.gc_full = [0, 0.0]  # full collections, the longest (ms)
        self.current_test = ""
        self.functions: list[Any] = []
        self._codes: dict[Any, tuple[str | None, str | None]] = {}

    # ----- blocking calls -------------------------------------------------------------------------------
    def _classify(self, code: Any) -> tuple[str | None, str | None]:
        """(project-relative path or None, allowlist entry or None) of a code object, cached."""
        hit = self._codes.get(code)
        if hit is None:
            filename = code.co_filename
            rel = None
            if not filename.startswith("<"):
                real = os.path.realpath(filename)
                if real in self.files or real.startswith(self.prefixes):
                    rel = _norm(os.path.relpath(real, self.root)) if real.startswith(
                        os.path.join(self.root, "")) else _norm(real)
            norm = _norm(filename)
            entry = next((a.entry for a in self.allow if a.matches_file(norm) and a.matches_code(code)), None)
            hit = self._codes[code] = (rel, entry)
        return hit

    def inspect(self, frame: Any, builtin_allow: list[tuple[str, set[str]]]) -> tuple | None:
        """The project frames (innermost first) and callee of a blocking call, or None when it is not the
        project's (no project frame on the loop) or is allowed (blockbuster's safe callers, the allowlist)."""
        frames: list[tuple[str, int, str, bool]] = []
        callee = None
        prev = None
        below = True  # still below the first project function: where allowed internals can be
        while frame is not None:
            code = frame.f_code
            if code in _BOUNDARY_CODES or (code.co_name == "_run" and _norm(code.co_filename).endswith(_EVENTS_FILE)):
                break
            rel, entry = self._classify(code)
            if below and builtin_allow:
                filename = _norm(code.co_filename)
                for suffix, names in builtin_allow:
                    if code.co_name in names and filename.endswith(suffix):
                        return None
            if below and entry is not None:
                with self.lock:
                    self.allowed[entry] = self.allowed.get(entry, 0) + 1
                return None
            if rel is not None:
                if not frames:
                    callee = prev
                if len(frames) < _MAX_FRAMES:
                    frames.append((rel, frame.f_lineno, getattr(code, "co_qualname", code.co_name),
                                   bool(code.co_flags & _CO_ASYNC)))
                # Module-level code runs under the import machinery: an import is still "below".
                below = below and code.co_name == "<module>"
            prev = frame
            frame = frame.f_back
        if not frames:
            return None
        return tuple(frames), callee

    def record(self, func_name: str, site: tuple, seconds: float) -> None:
        frames, callee_frame = site
        key = (func_name, frames)
        test = self.current_test
        with self.lock:
            entry = self.calls.get(key)
            if entry is None:
                entry = self.calls[key] = {"func": func_name, "frames": [list(f) for f in frames],
                                           "callee": _callee_name(callee_frame) if callee_frame else func_name,
                                           "count": 0, "total_ms": 0.0, "max_ms": 0.0, "tests": {}}
            ms = seconds * 1000.0
            entry["count"] += 1
            entry["total_ms"] += ms
            entry["max_ms"] = max(entry["max_ms"], ms)
            tests = entry["tests"]
            if test in tests or len(tests) < _MAX_TESTS:
                tests[test] = tests.get(test, 0) + 1

    def checker(self, fn: Any) -> Callable[..., Any]:
        """The wrapper installed over one of blockbuster's functions: record, never raise."""
        func = fn.original_func
        name = fn.full_name
        predicate = fn.can_block_predicate
        builtin_allow = [(_norm(f), set(names)) for f, names in fn.can_block_functions]
        from asyncio import _get_running_loop

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if _skip.value or _get_running_loop() is None:
                return func(*args, **kwargs)
            _skip.value = True
            try:
                try:
                    allowed = predicate(*args, **kwargs)
                except Exception:  # e.g. a closed file: the real call raises the real error
                    allowed = True
                site = None if allowed else self.inspect(sys._getframe(1), builtin_allow)
                if site is None:
                    return func(*args, **kwargs)
                start = time.perf_counter()
                try:
                    return func(*args, **kwargs)
                finally:
                    self.record(name, site, time.perf_counter() - start)
            finally:
                _skip.value = False

        wrapper.__wrapped__ = func  # type: ignore[attr-defined]
        try:  # a sampled stack then names the blocked function, not "wrapper"
            names = {"co_name": name, "co_qualname": name} if sys.version_info >= (3, 11) else {"co_name": name}
            wrapper.__code__ = wrapper.__code__.replace(**names)
        except (TypeError, ValueError):  # pragma: no cover
            pass
        return wrapper

    def activate(self) -> None:
        """Patch every function blockbuster knows with ``checker`` (its own patching rules)."""
        from blockbuster import blockbuster as bb

        for fn in bb.BlockBuster(None).functions.values():
            if fn.original_func is None or fn.activated:
                continue
            wrapper = self.checker(fn)
            try:
                setattr(fn.module, fn.func_name, wrapper)
            except TypeError:
                if not getattr(bb, "HAS_FORBIDDENFRUIT", False):
                    continue
                bb.forbiddenfruit.curse(fn.module, fn.func_name, wrapper)
            fn.activated = True
            self.functions.append(fn)

    def deactivate(self) -> None:
        for fn in reversed(self.functions):
            try:
                fn.deactivate()
            except Exception as exc:  # pragma: no cover - restoring a patched C type failed
                self.errors.append(f"cannot restore {fn.full_name}: {exc}")
        self.functions.clear()

    # ----- loop lag ------------------------------------------------------------------------------------
    def lag_sample(self, lag: float, wall: float | None = None, context: dict[str, Any] | None = None,
                   phase: str | None = None) -> None:
        """One timer's lateness: ``lag`` the program's (``wall`` less the time waiting for a CPU), ``wall``
        the raw lateness. A timer late by more than the threshold is kept as a stall (with what ran),
        counted when ``lag`` is over the threshold too. ``phase`` ("startup", "shutdown"): the lateness
        fell in an ASGI lifespan startup or shutdown, kept apart (no request is served then)."""
        ms = lag * 1000.0
        wall_ms = ms if wall is None else wall * 1000.0
        test = self.current_test
        stall = None
        if wall_ms > self.threshold:
            stall = {"ms": round(ms, 3), "wall_ms": round(wall_ms, 3), "counted": ms > self.threshold, "test": test}
            if phase:
                stall["phase"] = f"lifespan.{phase}"
            if context is not None:
                stall.update(_aggregate(context))
        with self.lock:
            if phase:
                _add_sample(self.lifespan_lag, ms, self.threshold, wall_ms)
                stalls = self.lifespan_stalls
            else:
                _add_sample(self.lag, ms, self.threshold, wall_ms)
                if test:
                    per = self.per_test.get(test)
                    if per is None:
                        per = self.per_test[test] = _new_lag()
                    _add_sample(per, ms, self.threshold, wall_ms)
                stalls = self.stalls
            if stall is not None:
                stalls.append(stall)
                if len(stalls) > 2 * _MAX_STALLS:
                    stalls.sort(key=_stall_order)
                    del stalls[_MAX_STALLS:]

    def watch(self, monitor: _Monitor) -> None:
        with self.lock:
            self.monitors.add(monitor)
            watchdog = self.watchdog
            if watchdog is None:
                watchdog = self.watchdog = _Watchdog(self)
        watchdog.event.set()
        if not watchdog.started:
            watchdog.start()

    def unwatch(self, monitor: _Monitor) -> None:
        with self.lock:
            self.monitors.discard(monitor)

    def gc_callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        elif self._gc_started:
            took = time.perf_counter() - self._gc_started
            self.gc_seconds += took
            self._gc_started = 0.0
            gen = info.get("generation", 0)
            if gen == 2:  # full collections: the ones long enough to show as loop lag
                self.gc_full[0] += 1
                self.gc_full[1] = max(self.gc_full[1], took * 1000.0)

    def describe(self, code: Any, line: int, paths: list[str]) -> dict[str, Any]:
        """One sampled frame for the report: project-relative path for the project's files, else the
        path under its ``sys.path`` entry (``botocore/loaders.py``), so library frames read as modules.
        The probe's own frames have line 0; the wrapper over a blocking function is named after it."""
        hit = self._described.get(code)
        if hit is None:
            name = getattr(code, "co_qualname", code.co_name)
            rel, _ = self._classify(code)
            if _norm(code.co_filename) == _PROBE_FILE:
                hit = ("blocking call" if "." in code.co_name else "asgi-migrate verify", name, False, True)
            elif rel is not None:
                hit = (rel, name, True, False)
            else:
                path = _norm(code.co_filename)
                base = next((b for b in paths if path.startswith(b)), "")
                hit = (path[len(base):], name, False, False)
            self._described[code] = hit
        return {"path": hit[0], "line": 0 if hit[3] else line, "function": hit[1], "project": hit[2]}

    def patch_loops(self) -> None:
        """Wrap ``BaseEventLoop.run_forever`` (what ``run_until_complete`` and ``asyncio.run`` use) to run
        the lag monitor while a loop runs; ``uvloop.Loop`` (which does not inherit it) and the ASGI lifespan
        hooks are patched when their modules are imported (see ``_POST_IMPORT``)."""
        import asyncio.base_events as base

        self.wrap_run_forever(base.BaseEventLoop)
        _install_post_import(self)

    def wrap_run_forever(self, cls: Any) -> None:
        """Run the lag monitor while a loop of ``cls`` (or a subclass) runs."""
        original = cls.run_forever
        if getattr(original, "_asgi_migrate_verify", False):
            return
        recorder = self

        def run_forever(loop: Any) -> Any:
            if loop.is_running() or loop.is_closed():
                return original(loop)  # raises as usual
            try:
                monitor = _Monitor(loop, recorder)
            except Exception as exc:  # pragma: no cover - defensive: never break the user's program
                monitor = None
                if len(recorder.errors) < 10:
                    recorder.errors.append(f"lag monitor failed: {exc.__class__.__name__}: {exc}")
            try:
                return original(loop)
            finally:
                if monitor is not None:
                    monitor.stop()

        _BOUNDARY_CODES.add(run_forever.__code__)  # the sampler's stack walk stops here
        run_forever._asgi_migrate_verify = True  # type: ignore[attr-defined]
        run_forever.__wrapped__ = original  # type: ignore[attr-defined]
        cls.run_forever = run_forever

    # ----- results -------------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            calls = [dict(c, tests=dict(c["tests"])) for c in self.calls.values()]
            per_test = {t: dict(v, hist=dict(v["hist"])) for t, v in self.per_test.items()}
            return {"pid": os.getpid(), "argv": list(sys.argv), "calls": calls, "allowed": dict(self.allowed),
                    "lag": dict(self.lag, hist=dict(self.lag["hist"])), "per_test": per_test,
                    "stalls": [self._stall_json(st) for st in sorted(self.stalls, key=_stall_order)[:_MAX_STALLS]],
                    "lifespan": {**self.lifespan_lag, "hist": dict(self.lifespan_lag["hist"]),
                                 "phases": dict(self.lifespan_phases),
                                 "stalls_kept": [self._stall_json(st) for st in
                                                 sorted(self.lifespan_stalls, key=_stall_order)[:_MAX_STALLS]]},
                    "loops": self.loops,
                    "interval_ms": self.interval * 1000.0, "cpu_wait_measured": self.cpu_wait_measured,
                    "gc_full": {"count": self.gc_full[0], "max_ms": round(self.gc_full[1], 3)},
                    "errors": list(self.errors)}

    def _stall_json(self, stall: dict[str, Any]) -> dict[str, Any]:
        """A stall with its sampled stacks as frames (path, line, function, project), most sampled first."""
        paths = _path_prefixes()
        out = {k: v for k, v in stall.items() if k not in ("stacks", "others")}
        if "stacks" in stall:
            out["stacks"] = [{"count": n, "idle": idle, "frames": [self.describe(c, ln, paths) for c, ln in stack]}
                             for (stack, idle), n in _most_common(stall["stacks"], _MAX_STACKS)]
            out["others"] = [{"count": n, "thread": name, "frames": [self.describe(c, ln, paths) for c, ln in stack]}
                             for (name, stack), n in _most_common(stall["others"], _MAX_STACKS)]
        return out

    def write(self) -> None:
        """Atomically (re)write this process's results file."""
        if not self.results_dir:
            return
        _skip.value = True  # our own file writes are never recorded
        try:
            data = self.snapshot()
            data["hist_keys"] = "tenths of a millisecond"
            path = os.path.join(self.results_dir, f"{os.getpid()}.json")
            tmp = path + ".tmp"
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump(_jsonable(data), fh)
            os.replace(tmp, path)
        except OSError as exc:  # pragma: no cover - nothing sensible left to do at exit
            print(f"asgi-migrate verify: cannot write results: {exc}", file=sys.stderr)
        finally:
            _skip.value = False


_BOUNDARY_CODES: set[Any] = set()  # our run_forever wrapper: a sampled stack ends there at the latest


class _Monitor:
    """Timer callbacks ``interval`` apart on one loop, each recording how late it ran; the watchdog
    samples the loop thread's stack while a timer is overdue (``raw``, tagged with ``seq``, the number
    of the timer it waited for, so a sample taken just as the timer ran is never counted for the next)."""

    def __init__(self, loop: Any, recorder: Recorder) -> None:
        self.loop = loop
        self.recorder = recorder
        self.thread = threading.get_ident()
        self.tid = str(threading.get_native_id()) if hasattr(threading, "get_native_id") else ""
        self.seq = 0
        self.raw: list[tuple[int, tuple, bool, tuple]] = []
        self.last_mono = _monotonic()
        self.last_cpu = _thread_time() if _thread_time else 0.0
        self.last_gc = recorder.gc_seconds
        self.sched_fd = _open_schedstat()
        self.last_wait = _cpu_wait(self.sched_fd)
        if self.last_wait is None:
            self.close_schedstat()
        else:
            recorder.cpu_wait_measured = True
        self.lifespan = _Lifespan.of(loop, recorder)
        self.due = loop.time() + recorder.interval
        self.due_mono = self.last_mono + recorder.interval
        self.handle = loop.call_at(self.due, self._tick)
        with recorder.lock:
            recorder.loops += 1
        recorder.watch(self)

    def _tick(self) -> None:
        now = self.loop.time()
        mono = _monotonic()
        rec = self.recorder
        due_mono = self.due_mono
        # the next due time first, then the sequence number: the watchdog reads them in the other order
        self.due_mono = mono + rec.interval
        seq = self.seq
        self.seq = seq + 1
        raw = None
        if self.raw:
            raw, self.raw = self.raw, []
        cpu = _thread_time() if _thread_time else 0.0
        gc_total = rec.gc_seconds
        # Measured on the monotonic clock (asyncio's loop.time() is the same clock; uvloop's has 1 ms steps).
        lag = max(0.0, mono - due_mono)
        phase = self.lifespan.classify(mono - lag, mono)
        waited = 0.0  # runnable but not scheduled since the previous timer
        if self.sched_fd is not None:
            wait = _cpu_wait(self.sched_fd)
            if wait is None:
                self.close_schedstat()
            else:
                waited, self.last_wait = max(0.0, wait - self.last_wait), wait
        samples = [r for r in raw or () if r[0] == seq]
        watchdog = rec.watchdog
        if lag > rec.trigger and self.sched_fd is not None and watchdog is not None:
            # The loop thread asleep on the GIL while the thread holding it waited for a CPU is the
            # machine's doing too: the longest CPU wait of another thread (the watchdog excluded) since
            # the watchdog's last reading before the stall, at most the time the loop thread spent
            # neither running nor waiting for a CPU, and only for the part of the stall the watchdog
            # could not sample (it needs the GIL too: a loop thread asleep in a blocking call with the
            # GIL free is sampled all along, and that sleep is the program's).
            before, after = watchdog.task_waits, _task_waits()
            skip = (self.tid, watchdog.tid)
            others = max((after[t] - before[t] for t in after if t in before and t not in skip), default=0.0)
            asleep = max(0.0, (mono - self.last_mono) - (cpu - self.last_cpu) - waited)
            sampled = min(1.0, len(samples) * rec.sample_every / max(rec.sample_every, lag - rec.trigger))
            waited += min(max(0.0, others), asleep) * (1.0 - sampled)
        own = lag - min(lag, waited)
        context = None
        if lag * 1000.0 > rec.threshold:
            context = {"window_ms": (mono - self.last_mono) * 1000.0, "gc_ms": (gc_total - self.last_gc) * 1000.0,
                       "raw": samples, "sample_ms": rec.sample_every * 1000.0}
            if _thread_time:
                context["cpu_ms"] = (cpu - self.last_cpu) * 1000.0
            if self.sched_fd is not None:
                context["cpu_wait_ms"] = waited * 1000.0
        self.last_mono, self.last_cpu, self.last_gc = mono, cpu, gc_total
        rec.lag_sample(own, lag, context, phase)
        self.due = now + rec.interval
        self.handle = self.loop.call_at(self.due, self._tick)

    def stop(self) -> None:
        self.handle.cancel()
        self.recorder.unwatch(self)
        self.close_schedstat()
        self.lifespan.release(self.loop, self.recorder)

    def close_schedstat(self) -> None:
        fd, self.sched_fd = self.sched_fd, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError:  # pragma: no cover
                pass


class _Lifespan:
    """Whether an ASGI lifespan startup or shutdown is in progress on one loop, and the spans it took
    since the loop's last timer. Entered and left on the loop's own thread (the hooks run on the loop),
    read by that loop's timer: no lock. Nested entries (the server's hook around the app's) count once."""

    __slots__ = ("loop", "depth", "since", "kind", "spans")

    def __init__(self, loop: Any) -> None:
        try:
            self.loop: Any = weakref.ref(loop)
        except TypeError:  # pragma: no cover - a loop class without weak references
            self.loop = lambda: loop
        self.depth = 0
        self.since = 0.0
        self.kind = ""
        self.spans: list[tuple[float, float, str]] = []

    @staticmethod
    def of(loop: Any, recorder: Recorder) -> _Lifespan:
        """The loop's state: kept across the loop's runs (``run_until_complete`` twice), never inherited by
        a new loop that got a dead one's id."""
        state = recorder.phases.get(id(loop))
        if state is None or state.loop() is not loop:
            state = recorder.phases[id(loop)] = _Lifespan(loop)
        return state

    def release(self, loop: Any, recorder: Recorder) -> None:
        if not self.depth and recorder.phases.get(id(loop)) is self:
            del recorder.phases[id(loop)]

    def enter(self, kind: str, recorder: Recorder) -> None:
        if not self.depth:
            self.since, self.kind = _monotonic(), kind
            with recorder.lock:
                recorder.lifespan_phases[kind] = recorder.lifespan_phases.get(kind, 0) + 1
        self.depth += 1

    def leave(self) -> None:
        if self.depth <= 0:
            return
        self.depth -= 1
        if not self.depth:
            self.spans.append((self.since, _monotonic(), self.kind))

    def classify(self, start: float, end: float) -> str | None:
        """The lifespan phase a timer's lateness (``start`` to ``end``, monotonic) belongs to: the one in
        progress for at least half of it (a lateness of zero: any phase since the previous timer). A
        stall right after ``startup.complete`` is the program's serving lag, not the startup's."""
        spans = self.spans
        if self.depth:
            spans = [*spans, (self.since, end, self.kind)]
        if not spans:
            return None
        self.spans = []
        if end - start < 1e-4:
            return spans[-1][2]
        overlap: dict[str, float] = {}
        for s, e, kind in spans:
            o = min(e, end) - max(s, start)
            if o > 0:
                overlap[kind] = overlap.get(kind, 0.0) + o
        if sum(overlap.values()) < 0.5 * (end - start):
            return None
        return max(overlap, key=overlap.__getitem__)


def _lifespan_enter(kind: str) -> _Lifespan | None:
    """Mark the running loop as in a lifespan startup/shutdown; the token for ``_lifespan_leave``."""
    rec = _state
    if rec is None:
        return None
    try:
        from asyncio import _get_running_loop

        loop = _get_running_loop()
        state = rec.phases.get(id(loop)) if loop is not None else None
        if state is None or state.loop() is not loop:
            return None  # a loop the monitor does not run (not started by run_forever)
        state.enter(kind, rec)
        return state
    except Exception:  # pragma: no cover - defensive: never break the user's program
        return None


def _lifespan_leave(token: _Lifespan | None) -> None:
    if token is not None:
        token.leave()


_LIFESPAN_REQUESTS = {"lifespan.startup": "startup", "lifespan.shutdown": "shutdown"}
_LIFESPAN_DONE = frozenset({"lifespan.startup.complete", "lifespan.startup.failed",
                            "lifespan.shutdown.complete", "lifespan.shutdown.failed"})


class _LifespanChannel:
    """The app side of the lifespan protocol, for any server: a phase starts when the app receives
    ``lifespan.startup``/``lifespan.shutdown`` and ends when it sends the matching ``.complete`` or
    ``.failed`` (or returns, or raises)."""

    def __init__(self) -> None:
        self.token: _Lifespan | None = None

    def receive(self, receive: Callable[[], Any]) -> Callable[[], Any]:
        async def lifespan_receive() -> Any:
            message = await receive()
            kind = _LIFESPAN_REQUESTS.get(message.get("type")) if isinstance(message, dict) else None
            if kind is not None and self.token is None:
                self.token = _lifespan_enter(kind)
            return message
        return lifespan_receive

    def send(self, send: Callable[[Any], Any]) -> Callable[[Any], Any]:
        async def lifespan_send(message: Any) -> Any:
            if isinstance(message, dict) and message.get("type") in _LIFESPAN_DONE:
                self.close()
            return await send(message)
        return lifespan_send

    def close(self) -> None:
        token, self.token = self.token, None
        _lifespan_leave(token)


def _marked(func: Any) -> bool:
    return bool(getattr(func, "_asgi_migrate_verify", False))


def _patch_app_lifespan(cls: Any, name: str) -> None:
    """``cls.name(self, scope, receive, send)`` handles lifespan scopes (Starlette's ``Router.lifespan``)."""
    original = getattr(cls, name, None)
    if original is None or _marked(original):
        return

    async def lifespan(self: Any, scope: Any, receive: Any, send: Any) -> Any:
        channel = _LifespanChannel()
        try:
            return await original(self, scope, channel.receive(receive), channel.send(send))
        finally:
            channel.close()

    lifespan._asgi_migrate_verify = True  # type: ignore[attr-defined]
    lifespan.__wrapped__ = original  # type: ignore[attr-defined]
    setattr(cls, name, lifespan)


def _patch_server_phase(cls: Any, name: str, kind: str) -> None:
    """``await cls.name(self)`` runs one lifespan phase from the server's side, for any app (uvicorn's
    ``LifespanOn.startup``, TestClient's ``wait_startup``): the phase lasts until it returns."""
    original = getattr(cls, name, None)
    if original is None or _marked(original):
        return

    async def phase(self: Any, *args: Any, **kwargs: Any) -> Any:
        token = _lifespan_enter(kind)
        try:
            return await original(self, *args, **kwargs)
        finally:
            _lifespan_leave(token)

    phase._asgi_migrate_verify = True  # type: ignore[attr-defined]
    phase.__wrapped__ = original  # type: ignore[attr-defined]
    setattr(cls, name, phase)


def _hook_starlette_routing(module: Any, recorder: Recorder) -> None:
    _patch_app_lifespan(module.Router, "lifespan")


def _hook_starlette_testclient(module: Any, recorder: Recorder) -> None:
    _patch_server_phase(module.TestClient, "wait_startup", "startup")
    _patch_server_phase(module.TestClient, "wait_shutdown", "shutdown")


def _hook_uvicorn_lifespan(module: Any, recorder: Recorder) -> None:
    _patch_server_phase(module.LifespanOn, "startup", "startup")
    _patch_server_phase(module.LifespanOn, "shutdown", "shutdown")


def _hook_uvloop(module: Any, recorder: Recorder) -> None:
    recorder.wrap_run_forever(module.Loop)  # a Python subclass of the Cython loop: its run_forever is settable


# Patched right after the module is imported (or at install when it already is): the lifespan hooks and
# uvloop's loop class. A server imports the app (and Starlette) inside its running loop, so checking
# once when a loop starts would be too late.
_POST_IMPORT: dict[str, Callable[[Any, Recorder], None]] = {
    "starlette.routing": _hook_starlette_routing,
    "starlette.testclient": _hook_starlette_testclient,
    "uvicorn.lifespan.on": _hook_uvicorn_lifespan,
    "uvloop": _hook_uvloop,
}


def _run_hook(name: str, module: Any, recorder: Recorder) -> None:
    try:
        _POST_IMPORT[name](module, recorder)
    except Exception as exc:  # a version without the patched names: report, never break the program
        if len(recorder.errors) < 10:
            recorder.errors.append(f"lag monitor: cannot hook {name}: {exc.__class__.__name__}: {exc}")


class _PostImportFinder:
    """A ``sys.meta_path`` entry that finds nothing itself: for a module of ``_POST_IMPORT`` it asks the
    other finders, then runs the hook right after the module's code has run."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.busy: set[str] = set()

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name not in _POST_IMPORT or name in self.busy:
            return None
        import importlib.util

        self.busy.add(name)
        try:
            spec = importlib.util.find_spec(name)
        except Exception:
            return None
        finally:
            self.busy.discard(name)
        loader = spec.loader if spec is not None else None
        if loader is None or isinstance(loader, type) or not hasattr(loader, "exec_module"):
            return spec  # a class-level loader (builtin, frozen) is shared: leave it alone
        exec_module = loader.exec_module
        recorder = self.recorder

        def exec_and_hook(module: Any) -> None:
            exec_module(module)
            _run_hook(name, module, recorder)

        try:  # a frame named as importlib's own: a warning raised at import still names the importer
            exec_and_hook.__code__ = exec_and_hook.__code__.replace(co_filename=_HOOK_FILENAME)
        except (TypeError, ValueError):  # pragma: no cover
            pass
        loader.exec_module = exec_and_hook  # this spec's own loader instance
        return spec


# ``warnings`` skips frames whose file name holds both "importlib" and "_bootstrap" when it looks for the
# code a ``stacklevel`` names; the hook's frame sits between the importer and the module's code.
_HOOK_FILENAME = "<asgi-migrate verify: importlib._bootstrap post-import hook>"


def _install_post_import(recorder: Recorder) -> None:
    for name in _POST_IMPORT:
        module = sys.modules.get(name)
        if module is not None:
            _run_hook(name, module, recorder)
    if not any(isinstance(f, _PostImportFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _PostImportFinder(recorder))


def _open_schedstat() -> int | None:
    """This thread's scheduler statistics (Linux), opened once per loop run: the descriptor stays bound to
    the thread that opened it, and ``pread`` re-reads it from the start."""
    if _pread is None:
        return None
    try:
        return os.open(_SCHEDSTAT, os.O_RDONLY)
    except OSError:
        return None


def _task_waits() -> dict[str, float]:
    """Every thread's CPU wait (seconds) by Linux thread id; empty where unavailable."""
    out = {}
    try:
        tids = _listdir("/proc/self/task")
    except OSError:
        return out
    for tid in tids:
        try:
            fd = os.open(f"/proc/self/task/{tid}/schedstat", os.O_RDONLY)
        except OSError:
            continue
        try:
            wait = _cpu_wait(fd)
        finally:
            os.close(fd)
        if wait is not None:
            out[tid] = wait
    return out


def _cpu_wait(fd: int | None) -> float | None:
    """Seconds this thread has spent runnable but waiting for a CPU, or None when unavailable."""
    if fd is None or _pread is None:
        return None
    try:
        return int(_pread(fd, 128, 0).split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


class _Watchdog(threading.Thread):
    """Samples the stack of every loop thread whose timer is overdue by the recorder's trigger."""

    def __init__(self, recorder: Recorder) -> None:
        super().__init__(name="asgi-migrate-verify-watchdog", daemon=True)
        self.recorder = recorder
        self.event = threading.Event()
        self.started = False
        self.cpu_seen: dict[int, tuple[float, float]] = {}
        self.task_waits: dict[str, float] = {}
        self.tid = ""  # Linux thread id, set when the thread runs

    def start(self) -> None:
        self.started = True
        super().start()

    def run(self) -> None:
        rec = self.recorder
        _skip.value = True  # nothing this thread does is the project's
        self.tid = str(threading.get_native_id()) if hasattr(threading, "get_native_id") else ""
        while True:
            with rec.lock:
                monitors = list(rec.monitors)
            self.event.clear()
            if not monitors:
                self.event.wait(1.0)
                continue
            now = _monotonic()
            wake_at = now + 0.25
            frames = None
            if all(now < m.due_mono + rec.trigger for m in monitors):
                self._cpu_baseline(now)  # so the first sample of a stall can tell which threads were busy
                if rec.cpu_wait_measured:
                    self.task_waits = _task_waits()  # the other threads' CPU waits before a stall
            for m in monitors:
                seq = m.seq
                late_at = m.due_mono + rec.trigger
                if now < late_at:
                    wake_at = min(wake_at, late_at)
                    continue
                wake_at = min(wake_at, now + rec.sample_every)
                if len(m.raw) >= _MAX_SAMPLES:
                    continue
                if frames is None:
                    frames = sys._current_frames()
                frame = frames.get(m.thread)
                if frame is None:
                    continue
                stack, idle = _loop_stack(frame)
                others = self._busy_others(frames, m.thread, now) if idle else ()
                m.raw.append((seq, stack, idle, others))
            frames = frame = None  # never keep another thread's frames alive
            delay = wake_at - _monotonic()
            if delay > 0:
                self.event.wait(delay)

    def _cpu_baseline(self, now: float) -> None:
        clock = getattr(time, "pthread_getcpuclockid", None)
        if clock is None:
            return
        seen = {}
        for t in threading.enumerate():
            if t.ident is not None and t.ident != self.ident:
                try:
                    seen[t.ident] = (time.clock_gettime(clock(t.ident)), now)
                except (OSError, OverflowError, ValueError):
                    continue
        self.cpu_seen = seen

    def _busy_others(self, frames: dict[int, Any], loop_thread: int, now: float) -> tuple:
        """The stacks of the other threads that used CPU since the previous sample (when the loop sits
        in ``select``, one of them, or another process, had the CPU)."""
        clock = getattr(time, "pthread_getcpuclockid", None)
        if clock is None:
            return ()
        names = {t.ident: t.name for t in threading.enumerate()}
        busy = []
        for ident, frame in frames.items():
            if ident in (loop_thread, self.ident):
                continue
            try:
                cpu = time.clock_gettime(clock(ident))
            except (OSError, OverflowError, ValueError):
                continue
            prev = self.cpu_seen.get(ident)
            self.cpu_seen[ident] = (cpu, now)
            if prev is not None and now > prev[1] and cpu - prev[0] > 0.2 * (now - prev[1]):
                busy.append((names.get(ident, str(ident)), _thread_stack(frame)))
        return tuple(busy)


def _loop_stack(frame: Any) -> tuple[tuple, bool]:
    """The loop thread's frames below its callback boundary (innermost first) and whether the loop
    was idle (in its own machinery, ``select``: no callback running)."""
    out = []
    crossed = False
    while frame is not None:
        code = frame.f_code
        if code in _BOUNDARY_CODES:
            break
        if code.co_name == "_run" and _norm(code.co_filename).endswith(_EVENTS_FILE):
            crossed = True
            break
        out.append((code, frame.f_lineno))
        frame = frame.f_back
    idle = not crossed and all(_is_loop_machinery(c.co_filename) for c, _ in out)
    if len(out) > _MAX_STACK:
        out = out[:_MAX_STACK - 10] + out[-10:]
    return tuple(out), idle


def _thread_stack(frame: Any) -> tuple:
    out = []
    while frame is not None and len(out) < _MAX_STACK:
        out.append((frame.f_code, frame.f_lineno))
        frame = frame.f_back
    return tuple(out)


def _is_loop_machinery(filename: str) -> bool:
    filename = _norm(filename)
    return "/asyncio/" in filename or filename.endswith("/selectors.py")


def _aggregate(context: dict[str, Any]) -> dict[str, Any]:
    """A stall's context: figures rounded, identical stacks counted (converted to text at write time)."""
    out: dict[str, Any] = {k: round(v, 3) for k, v in context.items() if k != "raw"}
    stacks: dict[tuple, int] = {}
    others: dict[tuple, int] = {}
    idle = 0
    for _, stack, is_idle, busy in context["raw"]:
        stacks[(stack, is_idle)] = stacks.get((stack, is_idle), 0) + 1
        idle += is_idle
        for item in busy:
            others[item] = others.get(item, 0) + 1
    out.update(samples=len(context["raw"]), idle_samples=idle, stacks=stacks, others=others)
    return out


def _most_common(counts: dict[Any, int], n: int) -> list[tuple[Any, int]]:
    return sorted(counts.items(), key=lambda kv: -kv[1])[:n]


def _stall_order(stall: dict[str, Any]) -> float:
    return -stall["ms"]


def _path_prefixes() -> list[str]:
    """``sys.path`` folders, longest first: a library frame is shown relative to the one holding it."""
    out = set()
    for p in sys.path:
        if p and os.path.isdir(p):
            out.add(_norm(os.path.join(os.path.abspath(p), "")))
            out.add(_norm(os.path.join(os.path.realpath(p), "")))
    return sorted(out, key=len, reverse=True)


def _new_lag() -> dict[str, Any]:
    return {"samples": 0, "max_ms": 0.0, "stalls": 0, "hist": {}, "wall_max_ms": 0.0, "cpu_wait_ms": 0.0}


def _add_sample(lag: dict[str, Any], ms: float, threshold: float, wall_ms: float) -> None:
    lag["samples"] += 1
    lag["max_ms"] = max(lag["max_ms"], ms)
    lag["wall_max_ms"] = max(lag["wall_max_ms"], wall_ms)
    lag["cpu_wait_ms"] += wall_ms - ms
    if ms > threshold:
        lag["stalls"] += 1
    key = int(ms * 10 + 0.5)
    hist = lag["hist"]
    hist[key] = hist.get(key, 0) + 1


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _callee_name(frame: Any) -> str:
    """A catalog-style name for the function a project frame called: the shortest public module path
    that exposes it (``sqlalchemy.orm.Session.commit``, not ``sqlalchemy.orm.session.Session.commit``),
    so a suggested ``blocking-calls`` entry matches the names the scanner resolves."""
    code = frame.f_code
    module = frame.f_globals.get("__name__", "") or ""
    qualname = getattr(code, "co_qualname", code.co_name)
    if "<locals>" in qualname or not module:
        return f"{module}.{qualname}" if module else qualname
    head = qualname.split(".", 1)[0]
    try:
        target = getattr(sys.modules[module], head)
        parts = module.split(".")
        for i in range(1, len(parts)):
            candidate = ".".join(parts[:i])
            mod = sys.modules.get(candidate)
            if mod is not None and getattr(mod, head, None) is target:
                return f"{candidate}.{qualname}"
    except Exception:  # noqa: S110 - a module with odd attribute access: keep the defining name
        pass
    return f"{module}.{qualname}"


def _locate(name: str) -> str | None:
    """The folder (or file) of a module named on ``--modules``, without importing project code: only
    the top-level package is looked up (``find_spec`` on a top-level name imports nothing)."""
    import importlib.util

    top, _, rest = name.partition(".")
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        base = next(iter(spec.submodule_search_locations))
    elif spec.origin and rest == "":
        return os.path.realpath(spec.origin)
    else:
        return None
    path = os.path.join(base, *rest.split(".")) if rest else base
    if os.path.isdir(path):
        return os.path.join(os.path.realpath(path), "")
    if os.path.isfile(path + ".py"):
        return os.path.realpath(path + ".py")
    return None


# ----- entry points -------------------------------------------------------------------------------------

def recorder() -> Recorder | None:
    return _state


def set_test(nodeid: str | None) -> str:
    """The pytest plugin names the running test; records and lag samples are attributed to it.
    Returns the previous one, to restore."""
    if _state is None:
        return ""
    previous, _state.current_test = _state.current_test, nodeid or ""
    return previous


def flush() -> None:
    if _state is not None:
        _state.write()


def install(cfg: dict[str, Any]) -> Recorder:
    """Activate recording for this process (idempotent)."""
    global _state
    if _state is not None:
        return _state
    state = Recorder(cfg)
    _state = state
    try:
        state.patch_loops()
        gc.callbacks.append(state.gc_callback)
    except Exception as exc:  # pragma: no cover - defensive: report, never break the user's program
        state.errors.append(f"lag monitor not installed: {exc.__class__.__name__}: {exc}")
    try:
        try:
            import blockbuster  # noqa: F401
        except ImportError:
            vendor = cfg.get("vendor")
            if not vendor:
                raise
            sys.path.append(vendor)  # last: the project's own packages always win
        state.activate()
    except Exception as exc:
        state.errors.append(f"blocking-call detection not installed: {exc.__class__.__name__}: {exc}")
    atexit.register(_at_exit)
    _flush_on_sigterm()
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_forget_parent)
    return state


def install_from_env() -> Recorder | None:
    """Called by the generated ``sitecustomize`` (and the pytest plugin): a no-op without the env var."""
    path = os.environ.get(ENV)
    if not path or _state is not None:
        return _state
    try:
        with open(path, encoding="utf-8") as fh:
            cfg = json.load(fh)
    except (OSError, ValueError) as exc:
        print(f"asgi-migrate verify: cannot read {path}: {exc}", file=sys.stderr)
        return None
    return install(cfg)


def _forget_parent() -> None:
    """A forked child starts with its parent's records: clear them (and a lock another thread may have
    held at the fork), so each process's file holds what that process saw."""
    if _state is not None:
        _state.lock = _thread.allocate_lock()
        _state.calls.clear()
        _state.allowed.clear()
        _state.lag = _new_lag()
        _state.per_test.clear()
        _state.stalls.clear()
        _state.lifespan_lag = _new_lag()
        _state.lifespan_stalls.clear()
        _state.lifespan_phases = {"startup": 0, "shutdown": 0}
        _state.phases = {}
        _state.loops = 0
        _state.gc_full = [0, 0.0]
        _state.monitors = set()  # the parent's loops and watchdog thread do not exist here
        _state.watchdog = None


def _at_exit() -> None:
    if _state is not None:
        _state.deactivate()
        _state.write()


def _flush_on_sigterm() -> None:
    """A server stopped with SIGTERM (the default action) never runs atexit: write the results first,
    then die of SIGTERM as before. A program that installs its own handler replaces this one."""
    if threading.current_thread() is not threading.main_thread():
        return
    try:
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return

        def handler(signum: int, frame: Any) -> None:
            _at_exit()
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)

        signal.signal(signal.SIGTERM, handler)
    except (ValueError, OSError, AttributeError):  # pragma: no cover - no SIGTERM (Windows) or no main thread
        pass


def chain_sitecustomize(own_file: str) -> None:
    """Run the ``sitecustomize`` ours shadows (a distribution's or the user's), as ``site`` would have."""
    import importlib.machinery
    import importlib.util
    import traceback

    own_dir = os.path.dirname(os.path.realpath(own_file))
    path = [p for p in sys.path if os.path.realpath(p or os.getcwd()) != own_dir]
    try:
        spec = importlib.machinery.PathFinder.find_spec("sitecustomize", path)
        if spec is not None and spec.loader is not None:
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
    except Exception:
        print("Error in sitecustomize (chained by asgi-migrate verify):", file=sys.stderr)
        traceback.print_exc()

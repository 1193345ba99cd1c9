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

Results: one JSON file per process (``<results>/<pid>.json``), written at exit (and by the pytest
plugin at ``pytest_unconfigure``); Python subprocesses inherit the environment and report too.
"""

from __future__ import annotations

import _thread
import atexit
import fnmatch
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

ENV = "ASGI_MIGRATE_VERIFY_CONFIG"
_EVENTS_FILE = "asyncio/events.py"
_CO_ASYNC = 0x80 | 0x200  # CO_COROUTINE | CO_ASYNC_GENERATOR
_MAX_FRAMES = 12  # project frames kept per record (innermost first)
_MAX_TESTS = 20  # test ids kept per record
_MAX_STALLS = 50  # stalls kept (the longest)


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
        self.stalls: list[tuple[float, str]] = []
        self.loops = 0
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
            if code.co_name == "_run" and _norm(code.co_filename).endswith(_EVENTS_FILE):
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
    def lag_sample(self, lag: float) -> None:
        ms = lag * 1000.0
        test = self.current_test
        with self.lock:
            _add_sample(self.lag, ms, self.threshold)
            if test:
                per = self.per_test.get(test)
                if per is None:
                    per = self.per_test[test] = _new_lag()
                _add_sample(per, ms, self.threshold)
            if ms > self.threshold:
                self.stalls.append((round(ms, 3), test))
                if len(self.stalls) > 2 * _MAX_STALLS:
                    self.stalls.sort(reverse=True)
                    del self.stalls[_MAX_STALLS:]

    def patch_loops(self) -> None:
        """Wrap ``BaseEventLoop.run_forever`` (what ``run_until_complete`` and ``asyncio.run`` use) to run
        the lag monitor while a loop runs."""
        import asyncio.base_events as base

        original = base.BaseEventLoop.run_forever
        if getattr(original, "_asgi_migrate_verify", False):
            return
        recorder = self

        def run_forever(loop: Any) -> Any:
            if loop.is_running() or loop.is_closed():
                return original(loop)  # raises as usual
            monitor = _Monitor(loop, recorder)
            try:
                return original(loop)
            finally:
                monitor.stop()

        run_forever._asgi_migrate_verify = True  # type: ignore[attr-defined]
        run_forever.__wrapped__ = original  # type: ignore[attr-defined]
        base.BaseEventLoop.run_forever = run_forever  # type: ignore[method-assign]

    # ----- results -------------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            calls = [dict(c, tests=dict(c["tests"])) for c in self.calls.values()]
            per_test = {t: dict(v, hist=dict(v["hist"])) for t, v in self.per_test.items()}
            return {"pid": os.getpid(), "argv": list(sys.argv), "calls": calls, "allowed": dict(self.allowed),
                    "lag": dict(self.lag, hist=dict(self.lag["hist"])), "per_test": per_test,
                    "stalls": sorted(self.stalls, reverse=True)[:_MAX_STALLS], "loops": self.loops,
                    "interval_ms": self.interval * 1000.0, "errors": list(self.errors)}

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


class _Monitor:
    """Timer callbacks ``interval`` apart on one loop, each recording how late it ran."""

    def __init__(self, loop: Any, recorder: Recorder) -> None:
        self.loop = loop
        self.recorder = recorder
        self.due = loop.time() + recorder.interval
        self.handle = loop.call_at(self.due, self._tick)
        with recorder.lock:
            recorder.loops += 1

    def _tick(self) -> None:
        now = self.loop.time()
        self.recorder.lag_sample(max(0.0, now - self.due))
        self.due = now + self.recorder.interval
        self.handle = self.loop.call_at(self.due, self._tick)

    def stop(self) -> None:
        self.handle.cancel()


def _new_lag() -> dict[str, Any]:
    return {"samples": 0, "max_ms": 0.0, "stalls": 0, "hist": {}}


def _add_sample(lag: dict[str, Any], ms: float, threshold: float) -> None:
    lag["samples"] += 1
    lag["max_ms"] = max(lag["max_ms"], ms)
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
        _state.loops = 0


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

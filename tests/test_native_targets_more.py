"""Native targets ``llm``, ``langchain``, ``subprocess`` and ``sqlite3``: golden pairs and runtime checks.

Golden pairs are ``golden/native/<target>_<case>/`` (``before.py``/``after.py`` or ``before/``/``after/``),
run through the real driver with every target, as ``tests/test_native_golden.py`` does. Here the
idempotence check is on the text: a case whose point is a refusal keeps the refused (still blocking)
call, which a second run plans to convert again and refuses again, unchanged.

Runtime checks: the subprocess helper really runs ``python -c`` children and matches ``subprocess.run``;
the sqlite3 rewrites really work on a temporary database with aiosqlite (commit and rollback
semantics of ``with sqlite3.connect(...)`` included); the llm and langchain rewrites run against
fake async clients (no network).
"""

from __future__ import annotations

import asyncio
import importlib.util
import subprocess
import sys
import types
from pathlib import Path

import pytest
from asgi_migrate.codemods.native.apply import native_project
from asgi_migrate.codemods.native.targets import all_targets
from asgi_migrate.codemods.native.targets import llm as llm_target
from asgi_migrate.codemods.native.targets import subprocess as subprocess_target

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "native"
PREFIXES = ("llm", "langchain", "subprocess", "sqlite3")
CASES = sorted(p for p in GOLDEN.iterdir() if p.name.split("_", 1)[0] in PREFIXES
               and ((p / "before.py").is_file() or (p / "before").is_dir()))


def _read(case: Path, side: str) -> dict[str, str]:
    if (case / f"{side}.py").is_file():
        return {"app.py": (case / f"{side}.py").read_text()}
    root = case / side
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*.py"))}


def _run(sources: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    _, results = native_project(sources)
    out, reviews = dict(sources), []
    for path, (code, _fixed, review) in results.items():
        out[path] = code
        reviews += [f"{path}:{f.line}: {why}" for f, why in review]
    return out, reviews


# ----- golden pairs --------------------------------------------------------------------------------

@pytest.mark.parametrize("prefix", PREFIXES)
def test_enough_cases(prefix: str) -> None:
    mine = [c for c in CASES if c.name.startswith(prefix + "_")]
    assert len(mine) >= 4
    assert any("refused" in c.name or "refusals" in c.name for c in mine)
    assert any((c / "before").is_dir() and len(_read(c, "before")) >= 2 for c in mine)


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_golden(case: Path) -> None:
    before, after = _read(case, "before"), _read(case, "after")
    out, reviews = _run(before)
    for path in sorted(after):
        assert out[path] == after[path], f"{path} differs; reviews: {reviews}"
        compile(after[path], f"{case.name}/{path}", "exec", dont_inherit=True)
    expected = [s.strip() for s in (case / "review.txt").read_text().splitlines() if s.strip()] \
        if (case / "review.txt").is_file() else []
    for want in expected:
        assert any(want in got for got in reviews), f"no review matching {want!r} in {reviews}"
    for got in reviews:
        assert any(want in got for want in expected), f"unexpected review {got!r}"
    again, _ = _run(after)
    assert again == after, "not idempotent"


def test_registered() -> None:
    names = [t.name for t in all_targets()]
    for prefix in PREFIXES:
        assert prefix in names


def test_llm_requirements_as_used() -> None:
    target = llm_target.LlmTarget()
    assert target.requirements == ("anthropic>=0.30", "openai>=1.0")  # nothing seen yet: both
    from asgi_migrate.codemods.analysis import Finding

    target.handles(Finding("a.py", 1, 0, 1, 1, "AM260", "openai.OpenAI.chat.completions.create", "a.f", ""))
    assert target.requirements == ("openai>=1.0",)


# ----- subprocess: the helper really runs children --------------------------------------------------

def _helper():  # type: ignore[no-untyped-def]
    namespace: dict = {}
    exec("import asyncio\nimport locale\nimport subprocess\n" + subprocess_target._HELPER_SOURCE, namespace)  # noqa: S102 - the rewritten code under test
    return namespace[subprocess_target.HELPER]


PY = sys.executable


@pytest.mark.parametrize("kwargs", [
    {"capture_output": True},
    {"capture_output": True, "text": True},
    {"stdout": subprocess.PIPE, "text": True, "input": "a\r\nb\n"},
    {"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT},
    {"stdout": subprocess.PIPE, "input": b"bytes in"},
    {"capture_output": True, "encoding": "utf-8", "errors": "replace"},
    {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL},
])
def test_subprocess_helper_matches_run(kwargs: dict) -> None:
    code = "import sys; d = sys.stdin.read() if not sys.stdin.isatty() else ''; " \
           "sys.stdout.write('out:' + d + '\\r\\n\\u00e9'); sys.stderr.write('err'); sys.exit(3)"
    argv = [PY, "-c", code]
    if "input" not in kwargs and kwargs.get("stdout") is not subprocess.DEVNULL:
        kwargs = {**kwargs, "stdin": subprocess.DEVNULL}
    expected = subprocess.run(argv, check=False, **kwargs)
    got = asyncio.run(_helper()(argv, **kwargs))
    assert isinstance(got, subprocess.CompletedProcess)
    assert (got.args, got.returncode, got.stdout, got.stderr) == \
        (expected.args, expected.returncode, expected.stdout, expected.stderr)


def test_subprocess_helper_check_and_cwd_env(tmp_path: Path) -> None:
    helper = _helper()
    argv = [PY, "-c", "import os, sys; print(os.getcwd(), os.environ['X']); sys.exit(2)"]
    with pytest.raises(subprocess.CalledProcessError) as info:
        asyncio.run(helper(argv, check=True, capture_output=True, text=True, cwd=str(tmp_path),
                           env={"X": "y", "PATH": ""}))
    exc = info.value
    assert exc.returncode == 2 and exc.cmd == argv
    assert exc.stdout == f"{tmp_path.resolve()} y\n" and exc.stderr == ""
    ok = asyncio.run(helper([PY, "-c", "print('hi')"], check=True, capture_output=True))
    ok.check_returncode()
    assert ok.stdout.strip() == b"hi"


def test_subprocess_cancel_kills_child() -> None:
    helper = _helper()

    async def scenario() -> None:
        task = asyncio.ensure_future(helper([PY, "-c", "import time; time.sleep(30)"], capture_output=True))
        await asyncio.sleep(0.5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(asyncio.wait_for(scenario(), 10))


def test_subprocess_rewritten_module_runs() -> None:
    """``subprocess_propagation_two_modules/after``: the route's helper really runs ``python -c``."""
    after = _read(GOLDEN / "subprocess_propagation_two_modules", "after")
    module = types.ModuleType("media_after")
    exec(compile(after["app/media.py"], "media.py", "exec"), module.__dict__)  # noqa: S102 - the rewritten code under test
    assert asyncio.run(module.probe("some/path")) == "some/path"


# ----- sqlite3: the rewrites really work with aiosqlite -------------------------------------------

def _load(path: Path, name: str, **overrides: object) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for key, value in overrides.items():
        setattr(module, key, value)
    return module


def test_sqlite3_with_connect_runs(tmp_path: Path) -> None:
    pytest.importorskip("aiosqlite")
    db = str(tmp_path / "notes.db")
    mod = _load(GOLDEN / "sqlite3_with_connect" / "after.py", "sqlite_with_after", DB_PATH=db)

    async def scenario() -> tuple:
        await mod.init_db()
        first = await mod.add_note("a")  # early return: still committed
        second = await mod.add_note("b")
        rows = await mod.list_notes()
        return first, second, rows, await mod.delete_all(), await mod.list_notes()

    assert asyncio.run(scenario()) == (1, 2, [(1, "a"), (2, "b")], 2, [])


def test_sqlite3_assign_close_and_cursor_runs(tmp_path: Path) -> None:
    pytest.importorskip("aiosqlite")
    mod = _load(GOLDEN / "sqlite3_assign_close_cursor" / "after.py", "sqlite_assign_after",
                DB_PATH=str(tmp_path / "shop.db"))

    async def scenario() -> tuple:
        await mod.setup()
        await mod.restock("pear", 2)
        total = await mod.restock("apple", 3)
        return total, await mod.names(), await mod.count()

    assert asyncio.run(scenario()) == (5, ["apple", "pear"], 2)


def test_sqlite3_transaction_semantics_preserved(tmp_path: Path) -> None:
    """``with sqlite3.connect(p) as conn``: commit on normal exit and on ``return``, rollback on error;
    the sync original and the rewrite leave the same rows."""
    pytest.importorskip("aiosqlite")
    source = '''import sqlite3


def write(path: str, value: int, fail: bool, early: bool) -> int:
    with sqlite3.connect(path) as conn:
        conn.execute("create table if not exists t (x integer)")
        conn.execute("insert into t values (?)", (value,))
        if early:
            return value
        if fail:
            raise ValueError(value)
    return -value


def read(path: str) -> list:
    with sqlite3.connect(path) as conn:
        return [r[0] for r in conn.execute("select x from t order by x").fetchall()]


async def route(path: str, value: int, fail: bool, early: bool) -> int:
    return write(path, value, fail, early)


async def rows(path: str) -> list:
    return read(path)
'''
    out, reviews = _run({"app.py": source})
    assert "async with aiosqlite.connect(path) as conn:" in out["app.py"], reviews
    sync_mod, async_mod = types.ModuleType("sync_db"), types.ModuleType("async_db")
    exec(compile(source, "sync.py", "exec"), sync_mod.__dict__)  # noqa: S102 - the rewritten code under test
    exec(compile(out["app.py"], "async.py", "exec"), async_mod.__dict__)  # noqa: S102 - the rewritten code under test
    calls = [(1, False, False), (2, True, False), (3, False, True), (4, True, True), (5, False, False)]

    def sync_run(path: str) -> list:
        for value, fail, early in calls:
            try:
                sync_mod.write(path, value, fail, early)
            except ValueError:
                pass
        return sync_mod.read(path)

    async def async_run(path: str) -> list:
        for value, fail, early in calls:
            try:
                await async_mod.route(path, value, fail, early)
            except ValueError:
                pass
        return await async_mod.rows(path)

    expected = sync_run(str(tmp_path / "sync.db"))
    assert expected == [1, 3, 4, 5]
    assert asyncio.run(async_run(str(tmp_path / "async.db"))) == expected


# ----- llm / langchain: the rewrites against fake async clients -----------------------------------

class _Usage:
    output_tokens = 7


class _Message:
    def __init__(self, text: str) -> None:
        self.content = [types.SimpleNamespace(text=text)]
        self.usage = _Usage()


class _Stream:
    def __init__(self) -> None:
        self.entered = False

    async def __aenter__(self) -> _Stream:  # noqa: PYI034
        self.entered = True
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    @property
    def text_stream(self):  # type: ignore[no-untyped-def]
        async def gen():  # type: ignore[no-untyped-def]
            for t in ("a", "b"):
                yield t
        return gen()

    async def get_final_message(self) -> _Message:
        return _Message("final")


class _Messages:
    async def create(self, **kwargs: object) -> _Message:
        return _Message(str(kwargs["messages"][0]["content"]) if kwargs.get("messages") else "")  # type: ignore[index]

    def stream(self, **kwargs: object) -> _Stream:
        return _Stream()


class _AsyncAnthropic:
    def __init__(self, **kwargs: object) -> None:
        self.messages = _Messages()

    def with_options(self, **kwargs: object) -> _AsyncAnthropic:
        return self


def test_llm_rewrite_runs_on_fake_async_client(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = types.ModuleType("anthropic")
    fake.AsyncAnthropic = _AsyncAnthropic  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "anthropic", fake)
    mod = _load(GOLDEN / "llm_anthropic_module_client" / "after.py", "llm_after")
    result = asyncio.run(mod.chat("hello"))
    assert result == {"reply": "hello", "streamed": "ab", "usage": 7, "summary": "Summarize: hello"}


def test_langchain_rewrite_runs_on_fake_runnable(monkeypatch: pytest.MonkeyPatch) -> None:
    class Chunk:
        def __init__(self, content: str) -> None:
            self.content = content

    class ChatOpenAI:
        async def astream(self, text: str):  # type: ignore[no-untyped-def]
            for part in text.split():
                yield Chunk(part)

        async def ainvoke(self, text: str, config: dict | None = None) -> Chunk:
            return Chunk(text.upper())

    fake = types.ModuleType("langchain_openai")
    fake.ChatOpenAI = ChatOpenAI  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "langchain_openai", fake)
    mod = _load(GOLDEN / "langchain_stream_loops" / "after.py", "langchain_after")
    assert asyncio.run(mod.tokens("a b c")) == ["a", "b", "c"]
    assert asyncio.run(mod.quick("x")) == "X"

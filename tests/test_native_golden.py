"""Golden pairs for the native phase: ``golden/native/<case>/``.

A case is either one module (``before.py`` -> ``after.py``, scanned as ``app.py``) or a small project
(``before/`` -> ``after/``, every ``.py`` under it, module names from the paths). Checks: the rewrite
gives exactly ``after``; ``after`` compiles; the phase is idempotent (nothing more to convert on
``after``). Optional ``review.txt``: one expected review-reason substring per line (each must match a
review; without the file, only reviews listed in ``review-ok.txt`` substrings are tolerated... none
by default).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from asgi_migrate.codemods.native.apply import native_project
from asgi_migrate.codemods.native.base import NativeConfig

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "native"
CASES = sorted(p for p in GOLDEN.iterdir() if (p / "before.py").is_file() or (p / "before").is_dir()) \
    if GOLDEN.is_dir() else []
# golden/native/{sqlalchemy,files,boto3,llm,langchain,subprocess,sqlite3}_* run through the same driver in
# their own test modules (tests/test_native_<target>.py, tests/test_native_targets_more.py), with the
# configuration each case needs (file backend, client scope), their expected review reasons, and a text
# idempotence check that holds for refusal cases too.
CASES = [c for c in CASES if not c.name.startswith(("sqlalchemy_", "files_", "boto3_", "llm_", "langchain_",
                                                    "subprocess_", "sqlite3_"))]


def _tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text() for p in sorted(folder.rglob("*.py"))}


def _read(case: Path) -> tuple[dict[str, str], dict[str, str]]:
    if not ((case / "after.py").is_file() or (case / "after").is_dir()):
        pytest.skip("case without after.py / after/ yet")
    if (case / "before.py").is_file():
        return {"app.py": (case / "before.py").read_text()}, {"app.py": (case / "after.py").read_text()}
    return _tree(case / "before"), _tree(case / "after")


def _config(case: Path | None) -> NativeConfig | None:
    """``config.txt`` of a case: ``key = value`` lines of ``NativeConfig`` (None without the file)."""
    path = case / "config.txt" if case is not None else None
    if path is None or not path.is_file():
        return None
    config = NativeConfig()
    for line in path.read_text().splitlines():
        if "=" in line:
            key, value = (x.strip() for x in line.split("=", 1))
            setattr(config, key, value)
    return config


def _run(sources: dict[str, str], case: Path | None = None):
    plan, results = native_project(sources, config=_config(case))
    out = dict(sources)
    reviews: list[str] = []
    for path, (code, _fixed, review) in results.items():
        out[path] = code
        reviews += [f"{path}:{f.line}: {why}" for f, why in review]
    return plan, out, reviews


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_rewrite_matches_after(case: Path) -> None:
    before, after = _read(case)
    _, out, reviews = _run(before, case)
    for path in sorted(after):
        assert out[path] == after[path], f"{path} differs; reviews: {reviews}"


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_after_compiles(case: Path) -> None:
    _, after = _read(case)
    for path, code in after.items():
        compile(code, str(case / path), "exec", dont_inherit=True)


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_idempotent(case: Path) -> None:
    _, after = _read(case)
    plan, out, _ = _run(after, case)
    assert out == after
    assert not any(fp.convert or fp.make_async or fp.await_calls or fp.unoffload or fp.offload
                   for fp in plan.files.values())


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_review_reasons(case: Path) -> None:
    before, _ = _read(case)
    _, _, reviews = _run(before, case)
    path = case / "review.txt"
    expected = [s.strip() for s in path.read_text().splitlines() if s.strip()] if path.is_file() else []
    for want in expected:
        assert any(want in got for got in reviews), f"no review matching {want!r} in {reviews}"
    for got in reviews:
        assert any(want in got for want in expected), f"unexpected review {got!r}"


def test_dependency_generator_converted_by_target_is_not_reported_kept_sync() -> None:
    """The SQLAlchemy target turns a session dependency into an async generator: the plan must agree."""
    case = GOLDEN / "sqlalchemy_dependency_generator"
    plan, out, reviews = _run({"app.py": (case / "before.py").read_text()})
    assert out["app.py"] == (case / "after.py").read_text()
    assert "app.get_session" in plan.target_async
    assert not any(s.function == "app.get_session" for s in plan.stops)
    assert not any("get_session" in r and "stays sync" in r for r in reviews), reviews


def test_offloaded_sites_are_planned_and_counted() -> None:
    case = GOLDEN / "still_blocking_offloaded"
    plan, _, _ = _run({"app.py": (case / "before.py").read_text()})
    offload = [f.call for fp in plan.files.values() for f in fp.offload]
    assert offload == ["socket.create_connection", "app.probe"]
    _, results = native_project({"app.py": (case / "before.py").read_text()})
    assert not any("still blocking" in why for _, (_, _, review) in results.items() for _, why in review)


def test_native_reports_the_pool_hazard_its_concurrency_exposes(tmp_path: Path) -> None:
    """The example's routes hold a session from their dependency while the repository opens a second one:
    after native, all requests run at once and the pool runs dry (seen with the load script at 50
    concurrent requests). The dry run lists each such call for review."""
    import shutil

    from asgi_migrate.cli.app import app
    from typer.testing import CliRunner

    example = Path(__file__).resolve().parent.parent / "examples" / "chatapp"
    copy = tmp_path / "chatapp"
    shutil.copytree(example, copy, ignore=shutil.ignore_patterns(".venv", ".asgi-migrate-cache", "__pycache__"))
    result = CliRunner().invoke(app, ["native", str(copy), "-q"], catch_exceptions=False)
    assert result.exit_code == 1
    hazards = [line for line in result.stderr.splitlines() if " AM303 " in line]
    assert len(hazards) == 3 and all("opens another; once native" in line for line in hazards)

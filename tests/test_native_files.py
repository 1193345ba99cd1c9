"""Golden pairs of the native ``files`` target: ``golden/native/files_<case>/``.

A case is ``before.py`` -> ``after.py`` (module ``app``), or ``before/`` -> ``after/`` folders for
several modules. Optional files: ``config.txt`` (``key = value`` lines of ``NativeConfig``) and
``review.txt`` (one substring per line that some review reason must contain). The rewrite runs
through the real driver (scan -> ``build_plan`` -> ``native_source``) with only the target under test.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from asgi_migrate.codemods.analysis import Analysis
from asgi_migrate.codemods.catalog import Catalog
from asgi_migrate.codemods.native import apply as native_apply
from asgi_migrate.codemods.native.apply import native_source
from asgi_migrate.codemods.native.base import NativeConfig, Target
from asgi_migrate.codemods.native.plan import build_plan
from asgi_migrate.codemods.native.targets.files import FilesTarget
from asgi_migrate.codemods.offload_placement import WITH_BLOCK
from asgi_migrate.codemods.summary import summarize

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "native"


# ----- harness shared with test_native_boto3 -----------------------------------------------------

@pytest.fixture(autouse=True)
def _targets_decide_with_items(monkeypatch: pytest.MonkeyPatch) -> None:
    """The driver still applies offload's "sync `with` item" refusal; a native target converts the
    whole ``with`` itself, so the tests lift that one refusal (a no-op once the driver does)."""
    original = native_apply.refusal

    def refusal(node, parent, blocked_withs=None):  # type: ignore[no-untyped-def]
        reason = original(node, parent, blocked_withs)
        return None if reason and reason.startswith(f"{WITH_BLOCK}: `with` item") else reason

    monkeypatch.setattr(native_apply, "refusal", refusal)


def module_name(path: str) -> str:
    return path[:-3].replace("/", ".").removesuffix(".__init__")


def run_native(sources: dict[str, str], targets: Sequence[Target],
               config: NativeConfig | None = None) -> tuple[dict[str, str], list[str]]:
    """Every file of ``sources`` rewritten by the native driver: (new sources, review reasons)."""
    modules = [summarize(src, module_name(path), path, is_package=path.endswith("__init__.py"))
               for path, src in sources.items()]
    analysis = Analysis(modules, Catalog())
    analysis.findings()
    plan = build_plan(analysis, targets, sources)
    out, reviews = dict(sources), []
    for path, fp in plan.files.items():
        code, _fixed, review = native_source(sources[path], path, fp, targets, config or NativeConfig())
        out[path] = code
        reviews += [why for _f, why in review]
    return out, reviews


def cases(prefix: str) -> list[Path]:
    return sorted(p for p in GOLDEN.glob(f"{prefix}_*") if (p / "before.py").is_file() or (p / "before").is_dir())


def read_case(case: Path, side: str) -> dict[str, str]:
    if (case / f"{side}.py").is_file():
        return {"app.py": (case / f"{side}.py").read_text()}
    root = case / side
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*.py"))}


def case_config(case: Path) -> NativeConfig:
    config = NativeConfig()
    path = case / "config.txt"
    if path.is_file():
        for line in path.read_text().splitlines():
            if "=" in line:
                key, value = (x.strip() for x in line.split("=", 1))
                setattr(config, key, value)
    return config


def check_case(case: Path, make_targets) -> None:  # type: ignore[no-untyped-def]
    before, after = read_case(case, "before"), read_case(case, "after")
    out, reviews = run_native(before, make_targets(), case_config(case))
    assert out == after
    expected = (case / "review.txt").read_text().splitlines() if (case / "review.txt").is_file() else []
    for want in filter(None, expected):
        assert any(want in r for r in reviews), (want, reviews)
    for path, code in after.items():
        compile(code, f"{case.name}/{path}", "exec", dont_inherit=True)
    again, _ = run_native(after, make_targets(), case_config(case))
    assert again == after, "not idempotent"


# ----- the files cases ---------------------------------------------------------------------------

FILES = cases("files")


def test_enough_cases() -> None:
    assert len(FILES) >= 10


@pytest.mark.parametrize("case", FILES, ids=lambda p: p.name)
def test_files_golden(case: Path) -> None:
    check_case(case, lambda: [FilesTarget()])


def test_aiofiles_api_exists() -> None:
    """Every function the target emits exists in the installed aiofiles."""
    aiofiles_os = pytest.importorskip("aiofiles.os")
    from asgi_migrate.codemods.native.targets import files

    for fn in files._AIOFILES_OS:
        assert hasattr(aiofiles_os, fn), fn
    for fn in files._AIOFILES_OSPATH:
        assert hasattr(aiofiles_os.path, fn), fn


def test_rewritten_code_runs(tmp_path: Path) -> None:
    """The aiofiles rewrite of a JSON read-modify-write really works."""
    pytest.importorskip("aiofiles")
    import asyncio
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "native_files_after", GOLDEN / "files_json_read_modify_write" / "after.py")
    assert spec is not None and spec.loader is not None
    after = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(after)
    target = tmp_path / "d" / "data.json"
    asyncio.run(after.add(str(target), "k", 1))
    asyncio.run(after.add(str(target), "j", 2))
    assert asyncio.run(after.load(str(target))) == {"k": 1, "j": 2}

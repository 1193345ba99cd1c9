"""Incremental analysis: after an edit, a scan that reuses unchanged modules' classified call sites
gives exactly the findings of a scan from scratch, and reuses them only when that is valid."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from asgi_migrate.cli.config import load_config
from asgi_migrate.cli.engine import scan
from asgi_migrate.cli.report import to_json

FILES = {
    "pyproject.toml": "[project]\nname = 'app'\n",
    "app/__init__.py": "",
    "app/store.py": (
        "import json\nimport time\n\n\n"
        "def load(path):\n    with open(path) as fh:\n        return json.load(fh)\n\n\n"
        "def pure(x):\n    return x + 1\n\n\n"
        "def wait(x):\n    time.sleep(x)\n    return x\n\n\n"
        "class Repo:\n    def get(self, key):\n        return pure(key)\n"
    ),
    "app/service.py": (
        "from app.store import Repo, load, pure, wait\n\n\n"
        "def settings():\n    return load('s.json')\n\n\n"
        "def compute(x):\n    return pure(wait(x))\n"
    ),
    "app/routes.py": (
        "from app.service import compute, settings\nfrom app.store import Repo\n\n\n"
        "async def home():\n    return settings()\n\n\n"
        "async def calc(x):\n    return compute(x) + Repo().get(x)\n"
    ),
}

EDITS = {
    # body edits: interfaces unchanged, so every other module's sites are reused
    "pure becomes blocking": ("app/store.py", "def pure(x):\n    return x + 1\n",
                              "def pure(x):\n    import time\n    time.sleep(x)\n    return x + 1\n", True),
    "sleep removed": ("app/store.py", "    time.sleep(x)\n    return x\n", "    y = x\n    return y\n", True),
    # the inferred return type is part of the interface
    "load stops blocking": ("app/store.py", "    with open(path) as fh:\n        return json.load(fh)\n",
                            "    return {}\n", False),
    "lines shift in a chain module": ("app/service.py", "def settings():", "# a comment\n\n\ndef settings():", True),
    "route edited": ("app/routes.py", "    return settings()\n", "    x = 1\n    return settings()\n", True),
    # interface edits: no reuse, full classification
    "function added": ("app/store.py", "class Repo:", "def extra():\n    return 1\n\n\nclass Repo:", False),
    "global rebound": ("app/service.py", "from app.store import Repo, load, pure, wait\n",
                       "from app.store import Repo, pure, wait\n\nload = pure\n", False),
    "method becomes async": ("app/store.py", "    def get(self, key):", "    async def get(self, key):", False),
}


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def _json(root: Path, use_cache: bool):
    config = load_config(root)
    result = scan([root / "app"], config, jobs=1, use_cache=use_cache)
    return json.loads(to_json(result, root))["findings"], result


@pytest.mark.parametrize("name", sorted(EDITS))
def test_incremental_equals_full(tmp_path: Path, name: str) -> None:
    _write(tmp_path, FILES)
    first, result = _json(tmp_path, use_cache=True)
    assert result.analysis is not None and result.analysis.reused == 0  # cold
    again, result = _json(tmp_path, use_cache=True)
    assert again == first and result.analysis.reused == len(result.analysis.project.functions)
    rel, old, new, reusable = EDITS[name]
    path = tmp_path / rel
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    incremental, result = _json(tmp_path, use_cache=True)
    full, _ = _json(tmp_path, use_cache=False)
    assert incremental == full
    if name in ("pure becomes blocking", "load stops blocking", "lines shift in a chain module", "global rebound",
                "sleep removed"):
        assert incremental != first  # the edit matters to findings in another module
    functions = result.analysis.project.functions
    edited = [q for q in functions if result.analysis.project.function_module[q].path == rel]
    if reusable:
        assert result.analysis.reused == len(functions) - len(edited)
    else:
        assert result.analysis.reused == 0


def test_configuration_change_drops_reuse(tmp_path: Path) -> None:
    _write(tmp_path, FILES)
    _json(tmp_path, use_cache=True)
    (tmp_path / "pyproject.toml").write_text(
        "[project]\nname = 'app'\n\n[tool.asgi-migrate]\nblocking-calls = {'app.store.pure' = 'AM100'}\n")
    incremental, result = _json(tmp_path, use_cache=True)
    full, _ = _json(tmp_path, use_cache=False)
    assert incremental == full and result.analysis.reused == 0


def test_touched_file_is_answered_from_the_results_cache(tmp_path: Path) -> None:
    import os

    _write(tmp_path, FILES)
    config = load_config(tmp_path)
    first = scan([tmp_path / "app"], config, jobs=1, need_analysis=False)
    assert not first.from_results_cache
    path = tmp_path / "app/store.py"
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))  # same bytes, new mtime
    touched = scan([tmp_path / "app"], config, jobs=1, need_analysis=False)
    assert touched.from_results_cache and touched.findings == first.findings
    again = scan([tmp_path / "app"], config, jobs=1, need_analysis=False)  # the new mtime was remembered
    assert again.from_results_cache
    path.write_text(path.read_text().replace("return x + 1", "return x + 2"))  # same size, new bytes
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 9_000_000_000))
    edited = scan([tmp_path / "app"], config, jobs=1, need_analysis=False)
    assert not edited.from_results_cache and edited.analysis is not None

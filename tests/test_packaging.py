"""A non-editable install ships every package: pyproject's explicit package list must name each folder
with an ``__init__.py`` under ``codemods/`` and ``cli/`` (a missing one installs fine and breaks at run time)."""

from __future__ import annotations

import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_is_listed() -> None:
    setup = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(setup["packages"])
    dirs = {"asgi_migrate": ROOT / "asgi_migrate", "asgi_migrate.codemods": ROOT / "codemods",
            "asgi_migrate.cli": ROOT / "cli"}
    found = set()
    for name, base in dirs.items():
        assert setup["package-dir"][name] == base.name
        for init in base.rglob("__init__.py"):
            rel = init.parent.relative_to(base)
            found.add(".".join([name, *rel.parts]))
    assert found == listed

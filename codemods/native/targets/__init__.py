"""The registry of native targets: one module per library, each exporting ``TARGET``.

A target module defines a module-level ``TARGET`` object implementing ``base.Target``. Modules
written by other people (``sqlalchemy``, ``files``, ``boto3``) are imported lazily and skipped
while they do not exist yet, so the registry never breaks the driver.
"""

from __future__ import annotations

import importlib

from ..base import Target

# The order matters only when two targets handle the same call: the first one wins.
TARGET_MODULES: tuple[str, ...] = ("sleep", "redis", "httpx", "llm", "langchain", "subprocess", "sqlite3",
                                   "sqlalchemy", "files", "boto3")


def _load(name: str) -> Target | None:
    try:
        module = importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"{__name__}.{name}":
            return None  # not written yet
        raise
    target = getattr(module, "TARGET", None)
    if target is None and callable(getattr(module, "target", None)):
        target = module.target()
    return target


def all_targets() -> list[Target]:
    """Every available target, in ``TARGET_MODULES`` order."""
    return [t for name in TARGET_MODULES if (t := _load(name)) is not None]


def target_names() -> list[str]:
    return [t.name for t in all_targets()]


def select_targets(names: list[str] | None) -> list[Target]:
    """The targets named in ``names`` (all of them when empty). Raises ``KeyError`` on an unknown name."""
    targets = all_targets()
    if not names:
        return targets
    by_name = {t.name: t for t in targets}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise KeyError(", ".join(unknown))
    return [by_name[n] for n in names]

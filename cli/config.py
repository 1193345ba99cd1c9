"""The scanned project's configuration: ``[tool.asgi-migrate]`` in its ``pyproject.toml``."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 in CI
    import tomli as tomllib

from ..codemods.catalog import CATEGORIES, CODES

DEFAULT_EXCLUDE = (
    "tests", "test", "test_*.py", "*_test.py", "conftest.py", "migrations", "alembic",
    ".venv", "venv", ".env", "env", "site-packages", "node_modules", ".git", ".hg", ".tox", ".nox",
    "__pycache__", "build", "dist", ".eggs", "*.egg-info", ".asgi-migrate-cache", ".mypy_cache",
    ".ruff_cache", ".pytest_cache",
)

_KEYS = {"include", "exclude", "extend-exclude", "blocking-calls", "safe-calls", "include-uncertain",
         "per-module", "file-backend", "manifest", "verify-allow", "boto3-client-scope"}
_PER_MODULE_KEYS = {"ignore"}


class ConfigError(Exception):
    """The configuration is invalid; the message names the file and the key."""


@dataclass
class Config:
    root: Path
    source: Path | None = None  # the pyproject.toml read, if any
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=lambda: list(DEFAULT_EXCLUDE))
    blocking_calls: dict[str, str] = field(default_factory=dict)
    safe_calls: list[str] = field(default_factory=list)
    include_uncertain: bool = False
    per_module_ignore: dict[str, frozenset[str]] = field(default_factory=dict)
    file_backend: str = "aiofiles"
    boto3_client_scope: str = "lifespan"  # native: one shared aioboto3 client per app lifespan, or one per call

    def fingerprint(self) -> str:
        """What findings depend on, for caches keyed by configuration."""
        return repr((sorted(self.blocking_calls.items()), sorted(self.safe_calls), self.include_uncertain,
                     sorted((k, sorted(v)) for k, v in self.per_module_ignore.items())))


def find_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` holding a pyproject.toml (else ``start``)."""
    start = start.resolve()
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        if (candidate / "pyproject.toml").is_file():
            return candidate
        if (candidate / ".git").exists():
            return candidate
    return folder


def _codes(value: object, where: str) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of finding codes or categories")
    out = set()
    for v in value:
        if v in CODES or v in CATEGORIES or v == "*":
            out.add(v)
        else:
            raise ConfigError(f"{where}: unknown code or category {v!r}")
    return frozenset(out)


def _str_list(table: dict, key: str, where: str) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}.{key} must be a list of strings")
    return list(value)


def load_config(root: Path) -> Config:
    config = Config(root=root)
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return config
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{pyproject}: invalid TOML: {exc}") from None
    table = data.get("tool", {}).get("asgi-migrate")
    if table is None:
        return config
    where = f"{pyproject}: [tool.asgi-migrate]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(_KEYS))})")
    config.source = pyproject
    config.include = _str_list(table, "include", where)
    if "exclude" in table:
        config.exclude = _str_list(table, "exclude", where)
    config.exclude += _str_list(table, "extend-exclude", where)
    blocking = table.get("blocking-calls", {})
    if not isinstance(blocking, dict) or not all(isinstance(v, str) for v in blocking.values()):
        raise ConfigError(f"{where}.blocking-calls must be a table of \"pattern\" = \"suggestion\"")
    config.blocking_calls = dict(blocking)
    config.safe_calls = _str_list(table, "safe-calls", where)
    uncertain = table.get("include-uncertain", False)
    if not isinstance(uncertain, bool):
        raise ConfigError(f"{where}.include-uncertain must be true or false")
    config.include_uncertain = uncertain
    backend = table.get("file-backend", "aiofiles")
    if backend not in ("aiofiles", "anyio"):
        raise ConfigError(f"{where}.file-backend must be \"aiofiles\" or \"anyio\"")
    config.file_backend = backend
    scope = table.get("boto3-client-scope", "lifespan")
    if scope not in ("lifespan", "call"):
        raise ConfigError(f"{where}.boto3-client-scope must be \"lifespan\" or \"call\"")
    config.boto3_client_scope = scope
    per_module = table.get("per-module", {})
    if not isinstance(per_module, dict):
        raise ConfigError(f"{where}.per-module must be a table of glob = {{ ignore = [...] }}")
    for pattern, override in per_module.items():
        sub = f"{where}.per-module.{pattern!r}"
        if not isinstance(override, dict):
            raise ConfigError(f"{sub} must be a table")
        bad = sorted(set(override) - _PER_MODULE_KEYS)
        if bad:
            raise ConfigError(f"{sub}: unknown key {bad[0]!r} (known: ignore)")
        config.per_module_ignore[pattern] = _codes(override.get("ignore", []), f"{sub}.ignore")
    return config


def relative(path: Path, base: Path | None = None) -> str:
    """A path as shown to the user: relative to the current directory when below it."""
    base = base or Path.cwd()
    try:
        return os.path.relpath(path, base) if str(path.resolve()).startswith(str(base.resolve())) else str(path)
    except ValueError:
        return str(path)

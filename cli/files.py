"""Which files a run covers, what module each one is, and reading them safely."""

from __future__ import annotations

import codecs
import fnmatch
import io
import os
import tokenize
from dataclasses import dataclass
from pathlib import Path

from .config import Config


class InputError(Exception):
    """Bad input named by the user (a missing path...): one line, exit code 2."""


@dataclass(frozen=True)
class SourceFile:
    path: Path  # absolute
    rel: str  # relative to the project root, posix
    module: str
    is_package: bool


def _matches(rel: str, name: str, patterns: list[str]) -> bool:
    for pattern in patterns:
        if "/" in pattern:
            if fnmatch.fnmatchcase(rel, pattern) or fnmatch.fnmatchcase(rel, pattern.rstrip("/") + "/*"):
                return True
        elif fnmatch.fnmatchcase(name, pattern):
            return True
    return False


def _excluded(rel: str, config: Config) -> bool:
    parts = rel.split("/")
    for i, part in enumerate(parts):
        if _matches("/".join(parts[: i + 1]), part, config.exclude):
            return True
    return False


def module_name(path: Path, package_dirs: dict[Path, bool], root: Path | None = None) -> tuple[str, bool]:
    """Dotted module name of ``path``.

    The package root is the parent of the highest folder (below the project root) that has an
    ``__init__.py``; folders between it and the file without one are PEP 420 namespace subpackages
    (wheels such as open-webui's ship them). With no ``__init__.py`` above, the file is a top-level module.
    """
    is_package = path.name == "__init__.py"
    folders: list[Path] = []
    folder = path.parent
    while folder != folder.parent and (root is None or folder != root) and (
            root is None or root in folder.parents):
        folders.append(folder)
        folder = folder.parent
    top = -1
    for i, candidate in enumerate(folders):
        known = package_dirs.get(candidate)
        if known is None:
            known = (candidate / "__init__.py").is_file()
            package_dirs[candidate] = known
        if known:
            top = i
        elif root is None and top == i - 1 and i > 0:
            break  # without a project root, stop at the first folder that is not a package
    parts = [f.name for f in reversed(folders[: top + 1])]
    if not is_package:
        parts.append(path.stem)
    return ".".join(parts) or path.stem, is_package


def discover(paths: list[Path], config: Config) -> list[SourceFile]:
    """The Python files under ``paths`` (files named explicitly are always included)."""
    root = config.root.resolve()
    found: dict[Path, None] = {}
    for given in paths:
        if not given.exists() and not given.is_symlink():
            raise InputError(f"{given}: no such file or directory")
        resolved = given.resolve() if not given.is_symlink() else given.absolute()
        if given.is_file():
            found[resolved] = None
            continue
        for folder, dirs, files in os.walk(resolved):
            base = Path(folder)
            rel_base = _rel(base, root)
            dirs[:] = sorted(d for d in dirs if not _excluded(f"{rel_base}/{d}".lstrip("/"), config)
                             and not (base / d).is_symlink())
            for name in sorted(files):
                if not name.endswith(".py"):
                    continue
                rel = f"{rel_base}/{name}".lstrip("/")
                if _excluded(rel, config):
                    continue
                if config.include and not any(fnmatch.fnmatchcase(rel, p) for p in config.include):
                    continue
                found[base / name] = None
    package_dirs: dict[Path, bool] = {}
    out = []
    for path in found:
        module, is_package = module_name(path, package_dirs, root)
        out.append(SourceFile(path, _rel(path, root), module, is_package))
    return out


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    bom: bool
    newline: str


def decode(data: bytes) -> Decoded:
    """Decode source bytes like Python does (BOM, coding cookie), keeping what a rewrite must restore.

    Raises ``UnicodeDecodeError`` / ``SyntaxError`` for undecodable input.
    """
    bom = data.startswith(codecs.BOM_UTF8)
    if bom:
        encoding = "utf-8"
        text = data[len(codecs.BOM_UTF8):].decode("utf-8")
    else:
        try:
            text = data.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
            if encoding in ("utf-8", "utf-8-sig"):
                raise
            text = data.decode(encoding)
    crlf = text.find("\r\n")
    newline = "\r\n" if crlf != -1 and (text.find("\n") == crlf + 1) else "\n"
    return Decoded(text, encoding, bom, newline)

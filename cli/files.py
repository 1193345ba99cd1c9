"""Which files a run covers, what module each one is, and reading them safely."""

from __future__ import annotations

import codecs
import fnmatch
import io
import os
import re
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


class _Excluder:
    """Exclude patterns compiled once: bare names match any path component, patterns with a slash the path."""

    def __init__(self, patterns: list[str]):
        names = [fnmatch.translate(p) for p in patterns if "/" not in p]
        paths = [fnmatch.translate(p) for p in patterns if "/" in p]
        paths += [fnmatch.translate(p.rstrip("/") + "/*") for p in patterns if "/" in p]
        self.name = re.compile("|".join(names)).match if names else None
        self.path = re.compile("|".join(paths)).match if paths else None

    def __call__(self, rel: str, name: str) -> bool:
        return bool((self.name and self.name(name)) or (self.path and self.path(rel)))


def module_name(path: Path, package_dirs: dict[str, bool], root: Path | None = None,
                packages: dict[str, str] | None = None) -> tuple[str, bool]:
    """Dotted module name of ``path``.

    The package root is the parent of the highest folder (below the project root) that has an
    ``__init__.py``; folders between it and the file without one are PEP 420 namespace subpackages
    (wheels such as open-webui's ship them). With no ``__init__.py`` above, the file is a top-level module.
    Without a project root, the walk stops at the first folder that is not a package.
    ``package_dirs`` and ``packages`` remember, per folder, whether it has an ``__init__.py`` and its
    dotted package name, for the next file of the same folder.
    """
    folder, name = os.path.split(os.fspath(path))
    is_package = name == "__init__.py"
    package = packages.get(folder) if packages is not None else None
    if package is None:
        package = _package(folder, package_dirs, str(root) if root is not None else None)
        if packages is not None:
            packages[folder] = package
    stem = os.path.splitext(name)[0]
    if is_package:
        return package or stem, True
    return f"{package}.{stem}" if package else stem, False


def _package(folder: str, package_dirs: dict[str, bool], stop: str | None) -> str:
    """Dotted package name of ``folder`` ("" for a top-level folder)."""
    folders: list[str] = []  # innermost first
    while True:
        if stop is not None and (folder == stop or not folder.startswith(stop + os.sep)):
            break
        known = package_dirs.get(folder)
        if known is None:
            known = os.path.isfile(os.path.join(folder, "__init__.py"))
            package_dirs[folder] = known
        if stop is None and not known:
            break
        folders.append(folder)
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    top = max((i for i, f in enumerate(folders) if package_dirs[f]), default=-1)
    return ".".join(os.path.basename(f) for f in reversed(folders[: top + 1]))


def discover(paths: list[Path], config: Config) -> list[SourceFile]:
    """The Python files under ``paths`` (files named explicitly are always included).

    Folders are pruned as the walk meets them, so each exclude pattern is tested once per folder
    and once per file name, never against every parent again.
    """
    root = config.root.resolve()
    excluded = _Excluder(config.exclude)
    include = re.compile("|".join(fnmatch.translate(p) for p in config.include)).match if config.include else None
    found: dict[Path, None] = {}
    for given in paths:
        if not given.exists() and not given.is_symlink():
            raise InputError(f"{given}: no such file or directory")
        resolved = given.resolve() if not given.is_symlink() else given.absolute()
        if given.is_file():
            found[resolved] = None
            continue
        for folder, dirs, files in os.walk(resolved):
            rel_base = _rel(Path(folder), root)
            prefix = "" if rel_base in ("", ".") else rel_base + "/"
            dirs[:] = sorted(d for d in dirs if not excluded(prefix + d, d))
            for name in sorted(files):
                if not name.endswith(".py"):
                    continue
                rel = prefix + name
                if excluded(rel, name) or (include is not None and not include(rel)):
                    continue
                found[Path(folder, name)] = None
    package_dirs: dict[str, bool] = {}
    packages: dict[str, str] = {}
    out = []
    base = str(root) + os.sep
    for path in found:
        module, is_package = module_name(path, package_dirs, root, packages)
        text = str(path)
        rel = text[len(base):].replace(os.sep, "/") if text.startswith(base) else _rel(path, root)
        out.append(SourceFile(path, rel, module, is_package))
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

"""``asgi-migrate init`` and ``asgi-migrate status``, as plain functions the app registers.

Why plain functions: the app module owns registration (``app.command("init")(init_command)``),
and importing it here at module level would be a cycle; ``fail`` is imported when needed.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.text import Text

EXIT_OK, EXIT_CHECK, EXIT_ERROR = 0, 1, 2


class StatusFormat(str, Enum):
    table = "table"
    markdown = "markdown"
    json = "json"
    html = "html"


class RequiredLevel(str, Enum):
    offloaded = "offloaded"
    native = "native"
    verified = "verified"


def _root_and_config(paths: list[Path]):
    from .app import fail
    from .config import ConfigError, find_root, load_config

    for p in paths:
        if not p.exists():
            raise fail(f"{p}: no such file or directory")
    root = find_root(paths[0])
    try:
        return root, load_config(root)
    except ConfigError as exc:
        raise fail(str(exc)) from None


def init_command(
    path: Path = typer.Argument(Path("."), help="The project to migrate (default: the current folder)."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1, help="Worker processes (default: cores)."),
) -> None:
    """Start recording a migration: the manifest (commit it) and a commented [tool.asgi-migrate] section.

    Exit codes: 0 created (or already there), 2 errors (a corrupt manifest is never overwritten).
    """
    from .app import fail
    from .files import InputError
    from .manifest import ManifestError, init_project

    root, config = _root_and_config([path])
    try:
        result = init_project(root, config, jobs=jobs)
    except (ManifestError, InputError) as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"cannot write in {root}: {exc.strerror or exc}") from None
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    name = result.manifest.relative_to(root).as_posix() if result.manifest.is_relative_to(root) else result.manifest
    if result.created:
        err.print(f"init: created {name} with {len(result.modules)} module(s) to migrate; commit it with the code")
    else:
        err.print(f"init: {name} already exists; left unchanged")
    if result.config_added:
        err.print("init: added a commented [tool.asgi-migrate] section to pyproject.toml")
    raise typer.Exit(EXIT_OK)


def status_command(
    paths: Optional[list[Path]] = typer.Argument(None, help="Files or folders (default: the current folder)."),
    output_format: StatusFormat = typer.Option(StatusFormat.table, "--format", "-f", help="Report format."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the report to this file."),
    check: bool = typer.Option(False, "--check", help="Exit 1 on any regression or module below --require."),
    require: Optional[RequiredLevel] = typer.Option(None, "--require",
                                                    help="With --check: every module must reach this level."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1, help="Worker processes (default: cores)."),
) -> None:
    """Where the migration stands: the manifest checked against a fresh scan, per module and phase.

    Exit codes: 0 (or, with --check, nothing regressed and nothing below --require), 1 check failed,
    2 errors (a corrupt manifest, invalid configuration).
    """
    from .app import fail
    from .files import InputError
    from .manifest import ManifestError
    from .status import check as run_check
    from .status import compute, print_table, render

    paths = paths or [Path(".")]
    root, config = _root_and_config(paths)
    try:
        status = compute(root, paths, config, jobs=jobs)
    except (ManifestError, InputError) as exc:
        raise fail(str(exc)) from None
    if output_format is StatusFormat.table and not output:
        print_table(status, Console(width=None if sys.stdout.isatty() else 160, highlight=False))
    else:
        text = render(status, output_format.value)
        if output:
            try:
                output.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
            except OSError as exc:
                raise fail(f"{output}: cannot write: {exc.strerror or exc}") from None
        else:
            print(text, end="" if text.endswith("\n") else "\n")
    if check or require:
        problems = run_check(status, require.value if require else None)
        err = Console(stderr=True, highlight=False, soft_wrap=True)
        for problem in problems:
            err.print(Text("check: ", style="red") + Text(problem))
        if problems:
            raise typer.Exit(EXIT_CHECK)
    raise typer.Exit(EXIT_OK)

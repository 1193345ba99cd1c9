"""``asgi-migrate verify``, as a plain function the app registers.

Registration (in ``cli/app.py``)::

    from .commands_verify import VERIFY_CONTEXT, verify_command
    app.command("verify", context_settings=VERIFY_CONTEXT)(verify_command)

Why those settings: everything after ``--`` (or after the first word that is not one of verify's own
options) is the user's command, passed through untouched, options included (``pytest -q -k x``).
"""

from __future__ import annotations

from pathlib import Path

import typer

# The first positional word ends verify's own options; unknown options after it belong to COMMAND.
VERIFY_CONTEXT = {"allow_interspersed_args": False, "ignore_unknown_options": True}


def verify_command(
    command: list[str] | None = typer.Argument(
        None, metavar="-- COMMAND...", help="The command to run, e.g. `-- pytest -q` or `-- python load.py`."),
    modules: list[str] | None = typer.Option(
        None, "--modules", help="Packages or modules to watch, comma-separated (default: every scanned file)."),
    allow: list[str] | None = typer.Option(
        None, "--allow", help="FILE:FUNC where blocking is allowed (FILE a path suffix or glob, FUNC a name "
                              "or glob), on top of the documented defaults and [tool.asgi-migrate] verify-allow."),
    lag_threshold: float = typer.Option(
        100.0, "--lag-threshold", min=0.0, help="Event-loop lag (ms) that fails the run (asyncio's "
                                                "slow-callback threshold by default)."),
    lag_include_lifespan: bool = typer.Option(
        False, "--lag-include-lifespan", help="Count lag during ASGI lifespan startup/shutdown against "
                                              "--lag-threshold too (by default it is reported apart: no "
                                              "request is served then)."),
    project: Path = typer.Option(Path("."), "--project", help="The project root (default: found from the "
                                                               "current folder)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Also write the results as JSON here."),
) -> None:
    """Run COMMAND (your tests or a workload) with runtime blocking detection and loop-lag figures.

    Records every blocking call the project makes on a running event loop (without raising: the
    command behaves as it always does), the project frame that led to it and whether the static scan
    knew it; measures event-loop lag (per test under pytest; lag during ASGI lifespan startup and
    shutdown apart); records the outcome per module in the manifest. Exit codes: 0 clean, 1 blocking
    calls, lag over the threshold or the command failing, 2 errors.
    """
    from .app import fail
    from .config import ConfigError, find_root, load_config
    from .files import InputError
    from .verify import VerifyError, split_modules, verify

    if not project.exists():
        raise fail(f"{project}: no such file or directory")
    root = find_root(project)
    try:
        config = load_config(root)
    except ConfigError as exc:
        if "'verify-allow'" in str(exc):
            raise fail(f"{exc} (verify-allow needs a newer configuration loader)") from None
        raise fail(str(exc)) from None
    try:
        run = verify(root, config, list(command or []), modules=split_modules(modules), allow=list(allow or []),
                     threshold_ms=lag_threshold, output=output, include_lifespan=lag_include_lifespan)
    except (VerifyError, InputError) as exc:
        raise fail(str(exc)) from None
    raise typer.Exit(run.exit_code)

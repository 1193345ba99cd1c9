"""``asgi-migrate branches``, as a plain function the app registers (``app.command("branches")(...)``).

Why a plain function: ``cli/app.py`` owns registration, and importing it here at module level would be a
cycle; ``fail`` is imported when needed. Output: the PR descriptions on stdout (or in ``--pr-dir``), so
``branches offload > prs.md`` gives a clean file; the summary table and notes on stderr.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

EXIT_OK, EXIT_PROBLEMS, EXIT_ERROR = 0, 1, 2


class Phase(str, Enum):
    offload = "offload"
    native = "native"


class Grouping(str, Enum):
    module = "module"
    package = "package"
    owner = "owner"


def branches_command(
    phase: Phase = typer.Argument(..., help="The phase to cut into branches."),
    paths: Optional[list[Path]] = typer.Argument(None, help="Files or folders (default: the current folder)."),
    base: str = typer.Option("HEAD", "--base", help="Compute the changes from this commit (never the working tree)."),
    batch_size: int = typer.Option(10, "--batch-size", min=1,
                                   help="Modules per branch (a group that must change together is never split)."),
    by: Grouping = typer.Option(Grouping.package, "--by", help="Never mix packages / CODEOWNERS owners in a branch."),
    prefix: str = typer.Option("asgi-migrate/", "--prefix", help="Branch name prefix."),
    stack: bool = typer.Option(False, "--stack", help="Base each branch on the previous one (merge in order)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the branches; write no ref and no object."),
    verify_cmd: Optional[str] = typer.Option(None, "--verify-cmd",
                                             help="Run this in a temporary worktree of each branch "
                                                  "(e.g. 'pytest -q')."),
    pr_dir: Optional[Path] = typer.Option(None, "--pr-dir",
                                          help="Write one PR description (markdown) per branch here."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1, help="Worker processes (default: cores)."),
) -> None:
    """Cut a phase into reviewable branches: one commit per batch of modules, each working on its own.

    Never touches the working tree, the index, HEAD or hooks. Exit codes: 0 done, 1 a branch was refused,
    a verify command failed or a file could not be rewritten, 2 errors.
    """
    from .app import fail
    from .branches import BranchError, Options, run
    from .gitplumbing import GitError
    from .manifest import ManifestError

    options = Options(phase.value, paths or [Path(".")], base, batch_size, by.value, prefix, stack, dry_run,
                      verify_cmd, jobs)
    try:
        report = run(options)
    except (BranchError, GitError, ManifestError) as exc:
        raise fail(str(exc)) from None
    err = Console(stderr=True, highlight=False, soft_wrap=True, width=None if sys.stderr.isatty() else 160)
    _write_prs(report, options, pr_dir, fail)
    print_summary(report, err)
    raise typer.Exit(exit_code(report))


def _write_prs(report, options, pr_dir: Optional[Path], fail) -> None:
    for outcome in report.outcomes:
        if not outcome.pr:
            continue
        if pr_dir is None:
            print(f"<!-- branch: {outcome.batch.name} -->\n{outcome.pr}")
            continue
        name = outcome.batch.name.removeprefix(options.prefix).replace("/", "-") + ".md"
        try:
            pr_dir.mkdir(parents=True, exist_ok=True)
            (pr_dir / name).write_text(outcome.pr, encoding="utf-8")
        except OSError as exc:
            raise fail(f"{pr_dir / name}: cannot write: {exc.strerror or exc}") from None


def print_summary(report, err: Console) -> None:
    """The table (branch, modules, findings fixed, diffstat, verify) and every note a user must see."""
    table = Table(title=f"{report.phase} from {report.base} ({report.base_sha[:10]})", title_justify="left")
    for column in ("branch", "status", "modules", "fixed", "diff", "verify"):
        table.add_column(column, justify="right" if column in ("modules", "fixed") else "left")
    for o in report.outcomes:
        verify = "-" if o.verify_ok is None else ("[green]pass[/green]" if o.verify_ok else "[red]FAIL[/red]")
        style = "red" if o.status in ("refused", "skipped") else ""
        table.add_row(o.batch.name, f"[{style}]{o.status}[/{style}]" if style else o.status,
                      str(len(o.batch.modules)), str(len(o.batch.fixed)), f"+{o.added} -{o.removed}", verify)
    if report.outcomes:
        err.print(table)
    else:
        err.print(f"branches: {report.phase} has nothing to change from {report.base}")
    for o in report.outcomes:
        if o.reason:
            err.print(f"  [red]{o.status}[/red] {o.reason}")
        if o.verify_ok is False and o.verify_tail:
            err.print(f"  verify failed on {o.batch.name}:\n    " + o.verify_tail.replace("\n", "\n    "))
    for name in report.obsolete:
        err.print(f"  [yellow]obsolete[/yellow] {name}: its batch no longer produces changes (not deleted)")
    for c in report.review_only:
        err.print(f"  review only (no branch) {c.rel}: {len(c.review)} finding(s) left for review")
    for c in report.not_rewritten:
        err.print(f"  [red]not rewritten[/red] {c.rel}: {c.error}")
    for path, reason in report.skipped:
        err.print(f"  [yellow]skipped[/yellow] {path}: {reason}")
    if report.uncommitted:
        err.print(f"branches: {report.uncommitted} uncommitted change(s) left alone (branches are built from "
                  f"{report.base})")
    if report.dry_run:
        err.print("branches: dry run, no branch written")
    elif report.manifest:
        err.print(f"branches: {report.manifest} updated in each branch for its modules")


def exit_code(report) -> int:
    problems = any(o.status in ("refused", "skipped") or o.verify_ok is False for o in report.outcomes)
    return EXIT_PROBLEMS if problems or report.not_rewritten else EXIT_OK

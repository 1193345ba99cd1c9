"""The ``asgi-migrate`` command line."""

from __future__ import annotations

import functools
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from .. import __version__
from ..codemods.catalog import CATEGORIES, CODES, rule_pages_markdown
from .config import ConfigError, find_root, load_config
from .files import InputError
from .progress import progress_factory

app = typer.Typer(
    name="asgi-migrate",
    help="Find and fix blocking calls on the asyncio event loop (FastAPI, Starlette, LangGraph, any ASGI app).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class ScanFormat(str, Enum):
    table = "table"
    json = "json"
    sarif = "sarif"
    github = "github"


def fail(message: str) -> typer.Exit:
    """One clear line on stderr and exit code 2."""
    Console(stderr=True, highlight=False).print(f"[red]error:[/red] {message}", markup=True, soft_wrap=True)
    return typer.Exit(EXIT_ERROR)


def _version(value: bool) -> None:
    if value:
        print(f"asgi-migrate {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Show the version and exit.")) -> None:
    """asgi-migrate: stop blocking the event loop."""


def _selection(values: Optional[list[str]], option: str) -> set[str]:
    out: set[str] = set()
    for value in values or []:
        for item in value.split(","):
            item = item.strip()
            if not item:
                continue
            if item in CODES:
                out.add(item)
            elif item in CATEGORIES:
                out.add(CATEGORIES[item])
            else:
                raise fail(f"{option}: unknown code or category {item!r}")
    return out


def _load(paths: list[Path]):
    for p in paths:
        if not p.exists():
            raise fail(f"{p}: no such file or directory")
    root = find_root(paths[0])
    try:
        config = load_config(root)
    except ConfigError as exc:
        raise fail(str(exc)) from None
    return root, config


@app.command()
def scan(
    paths: list[Path] = typer.Argument(None, help="Files or folders to scan (default: the current folder)."),
    output_format: ScanFormat = typer.Option(ScanFormat.table, "--format", "-f", help="Report format."),
    exit_zero: bool = typer.Option(False, "--exit-zero", help="Exit 0 even when findings are reported."),
    include_uncertain: bool = typer.Option(False, "--include-uncertain",
                                           help="Also report calls on receivers whose type is only guessed."),
    select: Optional[list[str]] = typer.Option(None, "--select", help="Only these codes or categories."),
    ignore: Optional[list[str]] = typer.Option(None, "--ignore", help="Skip these codes or categories."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1, help="Worker processes (default: cores)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not read or write the summary cache."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the report to this file."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar on stderr."),
) -> None:
    """Report every blocking call that runs on the event loop, with the chain that proves it.

    Exit codes: 0 no findings, 1 findings (or files that could not be analysed), 2 usage or input errors.
    """
    from . import report
    from .engine import scan as run_scan

    paths = paths or [Path(".")]
    root, config = _load(paths)
    selected, ignored = _selection(select, "--select"), _selection(ignore, "--ignore")
    try:
        result = run_scan(paths, config, jobs=jobs, use_cache=not no_cache,
                          include_uncertain=include_uncertain or None, need_analysis=False,
                          progress=progress_factory(quiet))
    except InputError as exc:
        raise fail(str(exc)) from None
    if selected or ignored:
        result.findings = [f for f in result.findings
                           if (not selected or f.code in selected) and f.code not in ignored]
    if output_format is ScanFormat.table:
        console = Console(file=open(output, "w", encoding="utf-8") if output else None,
                          width=None if sys.stdout.isatty() and not output else 160)
        report.print_table(result, root, console)
    else:
        render = {ScanFormat.json: report.to_json, ScanFormat.sarif: report.to_sarif,
                  ScanFormat.github: report.to_github}[output_format]
        text = render(result, root)
        if output:
            output.write_text(text + "\n", encoding="utf-8")
        elif text:
            print(text)
        for s in result.skipped:
            print(f"asgi-migrate: skipped {report.display_path(root, s.path)}: {s.reason}", file=sys.stderr)
    if exit_zero:
        raise typer.Exit(EXIT_OK)
    raise typer.Exit(EXIT_FINDINGS if result.findings or result.skipped else EXIT_OK)


def _offload_rewriter(source, findings, facts=None):
    """Offload by position first, then modernise legacy get_event_loop/run_in_executor (AM280) by shape.

    Hazards (AM300-AM303) are never rewritten: they come back as items for review.
    """
    from ..codemods.catalog import HAZARDS
    from ..codemods.hazards import find_hazards

    hazards = [f for f in findings if f.code in HAZARDS]
    findings = [f for f in findings if f.code not in HAZARDS]
    if facts is not None and findings:
        hazards += find_hazards(source, findings, facts, findings[0].path)
    hazard_review = [(h, f"hazard: {h.message}") for h in sorted(hazards, key=lambda h: (h.line, h.col))]
    code, fixed, review = _offload_and_modernize(source, findings)
    return code, fixed, review + hazard_review


def _offload_and_modernize(source, findings):
    from ..codemods.modernize_executor import modernize_source
    from ..codemods.offload import offload_source

    result = offload_source(source, findings)
    fixed = list(result.fixed)
    review = [(r.finding, r.reason) for r in result.review]
    if any(f.code == "AM280" for f in findings):
        modern = modernize_source(result.code)
        if modern.rewritten:
            fixed += [f for f, _ in review if f.code == "AM280"]
            review = [(f, why) for f, why in review if f.code != "AM280"]
            return modern.code, fixed, review
    return result.code, fixed, review


def run_phase(phase: str, rewriter, paths: list[Path], write: bool, select, ignore, jobs: Optional[int],
              diff_context: int, quiet: bool = False, show_progress: bool = True) -> int:
    """Scan, rewrite each file with findings, show diffs (or write), summarise. Returns the exit code."""
    from .engine import scan as run_scan
    from .rewrite import plan

    root, config = _load(paths)
    selected, ignored = _selection(select, "--select"), _selection(ignore, "--ignore")
    try:
        result = run_scan(paths, config, jobs=jobs, progress=progress_factory(not show_progress))
    except InputError as exc:
        raise fail(str(exc)) from None
    by_file: dict[str, list] = {}
    hazards = result.analysis.hazards if result.analysis is not None else []
    for f in list(result.findings) + list(hazards):
        if (not selected or f.code in selected) and f.code not in ignored:
            by_file.setdefault(f.path, []).append(f)
    if result.analysis is not None and rewriter is _offload_rewriter:
        rewriter = functools.partial(_offload_rewriter, facts=result.analysis.facts())
    changes = plan(by_file, config.root, rewriter, jobs=jobs or os.cpu_count() or 1,
                   progress=progress_factory(not show_progress))
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    if write:
        write_recorded(root, phase, [phase], result, changes)
    elif not quiet:
        show_diffs(changes, diff_context)
    changed = [c for c in changes if c.changed and not c.error]
    fixed = sum(len(c.fixed) for c in changed)
    review = [(f, why) for c in changes for f, why in c.review]
    errors = [c for c in changes if c.error]
    verb = "rewrote" if write else "would rewrite"
    err.print(f"{phase}: {verb} {len(changed)} file(s), {fixed} finding(s) fixed, "
              f"{len(review)} left for review" + (f", {len(errors)} file(s) not rewritten" if errors else ""))
    print_review(err, root, review)
    print_unwritten(err, root, errors, result.skipped)
    return phase_exit_code(errors, result.skipped, bool(changed) and not write, bool(review))


# ----- what every rewriting phase shares (offload here, native in native_phase.py) ---------------------------

def write_recorded(root: Path, phase: str, selection: list[str], result, changes) -> None:
    """Write the changes atomically and record the Python files written in the manifest (when the project
    has one); a manifest that cannot be read stops everything before the first write."""
    from .manifest import ManifestError, phase_recorder
    from .rewrite import write_changes

    modules = [c for c in changes if c.rel.endswith(".py")]
    try:  # validates the manifest before any file is rewritten; None when the project has none
        recorder = phase_recorder(root, phase, selection, result, modules)
    except ManifestError as exc:
        raise fail(str(exc)) from None
    hook = None if recorder is None else (lambda written: recorder([c for c in written if c.rel.endswith(".py")]))
    try:
        write_changes(changes, after_write=hook)
    except (ManifestError, OSError) as exc:
        raise fail(f"files rewritten, but the manifest was not updated: {exc}") from None


def show_diffs(changes, diff_context: int) -> None:
    """A unified diff per changed file on stdout, coloured on a terminal."""
    out = Console(highlight=False, soft_wrap=True)
    for change in changes:
        if change.changed:
            text = change.diff(diff_context)
            if out.is_terminal:
                from rich.syntax import Syntax

                out.print(Syntax(text, "diff", theme="ansi_dark", background_color="default"))
            else:
                print(text, end="")


def print_review(err: Console, root: Path, review) -> None:
    from . import report

    for f, why in review:
        err.print(f"  review {report.display_path(root, f.path)}:{f.line}:{f.col + 1} {f.code} "
                  f"{f.call or f.category}: {why}")


def print_unwritten(err: Console, root: Path, errors, skipped) -> None:
    from . import report

    for c in errors:
        err.print(f"  [red]not rewritten[/red] {report.display_path(root, c.rel)}: {c.error}")
    for s in skipped:
        err.print(f"  [yellow]skipped[/yellow] {report.display_path(root, s.path)}: {s.reason}")


def phase_exit_code(errors, skipped, unwritten_changes: bool, left_open: bool) -> int:
    """2 when reading or writing a file failed; 1 when something is left: a refused file (with its reason), a
    skipped one, a dry run's changes, items for review; else 0."""
    if any(c.failed for c in errors):
        return EXIT_ERROR
    if errors or skipped or unwritten_changes:
        return EXIT_FINDINGS
    return EXIT_FINDINGS if left_open else EXIT_OK


@app.command()
def offload(
    paths: list[Path] = typer.Argument(None, help="Files or folders (default: the current folder)."),
    write: bool = typer.Option(False, "--write", help="Apply the changes (default: show a diff)."),
    select: Optional[list[str]] = typer.Option(None, "--select", help="Only these codes or categories."),
    ignore: Optional[list[str]] = typer.Option(None, "--ignore", help="Skip these codes or categories."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1, help="Worker processes (default: cores)."),
    diff_context: int = typer.Option(3, "--diff-context", min=0, help="Lines of context in diffs."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar on stderr."),
) -> None:
    """Take blocking work off the loop: `await asyncio.to_thread(...)`, `asyncio.sleep`, sync helpers.

    Dry run by default (a unified diff per file); `--write` applies the changes atomically.
    Exit codes: 0 nothing left to do, 1 changes shown or findings left for review, 2 errors.
    """
    raise typer.Exit(run_phase("offload", _offload_rewriter, paths or [Path(".")], write, select, ignore, jobs,
                               diff_context, show_progress=not quiet))


@app.command()
def rules(
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the pages to this file."),
) -> None:
    """Print every finding code's rule page (markdown), generated from the catalog."""
    text = rule_pages_markdown()
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        print(text)


from .commands_branches import branches_command  # noqa: E402
from .commands_manifest import init_command, status_command  # noqa: E402  (registered below)
from .commands_verify import VERIFY_CONTEXT, verify_command  # noqa: E402

app.command("init")(init_command)
app.command("status")(status_command)
# options after COMMAND (`-- pytest -q -k x`) belong to COMMAND
app.command("verify", context_settings=VERIFY_CONTEXT)(verify_command)
app.command("branches")(branches_command)

from .native_phase import native as native_command  # noqa: E402

app.command("native")(native_command)


def main() -> None:
    app()

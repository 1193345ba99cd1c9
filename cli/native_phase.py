"""``asgi-migrate native``: plan over the whole scan, rewrite every file the plan touches.

Same contract as ``offload``: a dry run shows unified diffs (including the project's requirements),
``--write`` applies them atomically and records the run in the manifest. Exit codes: 0 nothing left
to do, 1 changes shown or items left for review, 2 errors.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from rich.console import Console

from .files import InputError, decode
from .rewrite import FileChange, plan_file

if TYPE_CHECKING:  # libcst (under codemods.native) is imported when the phase runs, not at CLI start-up
    from ..codemods.native.apply import NativeResult
    from ..codemods.native.base import NativeConfig, Target
    from ..codemods.native.plan import FilePlan, NativePlan


def _rewrite(source: str, findings, *, fp: FilePlan, names: tuple[str, ...], config: NativeConfig,
             done: tuple[str, NativeResult] | None = None):
    if done is not None and done[0] == source:  # rewritten already (the planning rounds), same text
        return done[1].code, done[1].fixed, done[1].review
    from ..codemods.native.apply import native_source
    from ..codemods.native.targets import select_targets

    return native_source(source, fp.path, fp, select_targets(list(names)), config)


def _plan_one(args) -> FileChange:
    return plan_file(*args)


def native_changes(plan: NativePlan, root: Path, targets: list[Target], config: NativeConfig,
                   jobs: int = 1, done: Mapping[str, tuple[str, NativeResult]] | None = None) -> list[FileChange]:
    """One ``FileChange`` per file of the plan (not only files with findings: helpers, setup modules).

    ``done``: rewrites already made for this plan (path -> (source text, result)), reused when the file
    still holds that text."""
    names = tuple(t.name for t in targets)
    done = done or {}
    work = []
    for rel, fp in sorted(plan.files.items()):
        findings = [f for f, _ in fp.convert]
        work.append((root / rel, rel, findings, functools.partial(_rewrite, fp=fp, names=names, config=config,
                                                                  done=done.get(rel))))
    if jobs > 1 and len(work) > 8 and not done:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            return list(pool.map(_plan_one, work))
    return [_plan_one(w) for w in work]


def _native_one(args) -> NativeResult:
    from ..codemods.native.apply import NativeResult, native_file
    from ..codemods.native.targets import select_targets

    text, path, fp, names, config = args
    try:
        return native_file(text, path, fp, select_targets(list(names)), config)
    except RecursionError:
        why = "too deeply nested for the rewriter (RecursionError)"
        review = [(f, why) for f, _ in fp.convert] + [(f, why) for f in fp.offload]
        result = NativeResult(text, [], list(fp.review) + review)
        result.refused = {(f.path, f.line, f.col): why for f, _ in review}
        return result


def native_rounds_on(analysis, sources: dict[str, str], targets: list[Target], config: NativeConfig,
                     jobs: int = 1) -> tuple[NativePlan, dict[str, NativeResult]]:
    """Plan and rewrite (in memory) until the driver refuses nothing new (``apply.native_rounds``)."""
    from ..codemods.native.apply import native_rounds
    from ..codemods.native.plan import build_plan

    names = tuple(t.name for t in targets)
    cache: dict[str, tuple[FilePlan, NativeResult]] = {}

    def rewrite(plan: NativePlan) -> dict[str, NativeResult]:
        todo = [(p, fp) for p, fp in sorted(plan.files.items())
                if p in sources and not (p in cache and cache[p][0] == fp)]
        work = [(sources[p], p, fp, names, config) for p, fp in todo]
        if jobs > 1 and len(work) > 8:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                results = list(pool.map(_native_one, work, chunksize=max(1, len(work) // (jobs * 4))))
        else:
            results = [_native_one(w) for w in work]
        for (p, fp), r in zip(todo, results):
            cache[p] = (fp, r)
        return {p: cache[p][1] for p in plan.files if p in cache}

    plan, results, _ = native_rounds(lambda feedback: build_plan(analysis, targets, sources, feedback), rewrite)
    return plan, dict(results)


# ---------------------------------------------------------------------------------------------
# Requirements: requirements.txt or pyproject.toml [project].dependencies
# ---------------------------------------------------------------------------------------------

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _canonical(requirement: str) -> str:
    m = _NAME.match(requirement)
    return re.sub(r"[-_.]+", "-", m.group(1)).lower() if m else ""


def add_requirements(text: str, kind: str, wanted: list[str]) -> str:
    """``text`` (a requirements.txt or a pyproject.toml) with the ``wanted`` requirements it lacks added."""
    if kind == "requirements":
        present = {_canonical(line.split("#", 1)[0]) for line in text.splitlines()}
        missing = [r for r in wanted if _canonical(r) not in present]
        if not missing:
            return text
        sep = "" if not text or text.endswith("\n") else "\n"
        return text + sep + "".join(f"{r}\n" for r in missing)
    from .config import tomllib

    data = tomllib.loads(text)
    project = data.get("project")
    if not isinstance(project, dict):
        return text
    present = {_canonical(r) for r in project.get("dependencies", []) if isinstance(r, str)}
    missing = [r for r in wanted if _canonical(r) not in present]
    if not missing:
        return text
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip() == "[project]"), None)
    if start is None:
        return text
    end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
    dep = next((i for i in range(start + 1, end) if re.match(r"\s*dependencies\s*=\s*\[", lines[i])), None)
    if dep is None:
        while end > start + 1 and not lines[end - 1].strip():
            end -= 1
        block = "dependencies = [\n" + "".join(f'    "{r}",\n' for r in missing) + "]\n"
        lines.insert(end, block)
        return "".join(lines)
    close = next((i for i in range(dep, end) if "]" in lines[i].split("#", 1)[0]), None)
    if close is None:
        return text
    if close == dep:  # one line: dependencies = ["a", "b"]
        line = lines[dep]
        head, _, tail = line.partition("]")
        inner = head.split("[", 1)[1].strip().rstrip(",")
        items = ([inner] if inner else []) + [f'"{r}"' for r in missing]
        lines[dep] = head.split("[", 1)[0] + "[" + ", ".join(items) + "]" + tail
        return "".join(lines)
    indent = re.match(r"\s*", lines[dep + 1]).group(0) if close > dep + 1 else "    "  # type: ignore[union-attr]
    previous = lines[close - 1].rstrip("\n")
    if close > dep + 1 and not previous.split("#", 1)[0].rstrip().endswith(","):
        lines[close - 1] = previous.split("#", 1)[0].rstrip() + "," + (
            "  #" + previous.split("#", 1)[1] if "#" in previous else "") + "\n"
    lines[close:close] = [f'{indent}"{r}",\n' for r in missing]
    return "".join(lines)


def requirements_change(root: Path, wanted: list[str]) -> FileChange | None:
    """The change adding ``wanted`` to the project's requirements.txt (preferred) or pyproject.toml."""
    if not wanted:
        return None
    for name, kind in (("requirements.txt", "requirements"), ("pyproject.toml", "pyproject")):
        path = root / name
        if not path.is_file():
            continue
        try:
            decoded = decode(path.read_bytes())
        except (OSError, UnicodeDecodeError, SyntaxError, LookupError):
            continue
        try:
            new = add_requirements(decoded.text, kind, wanted)
        except Exception:  # noqa: BLE001 - an unreadable pyproject: try the next file
            continue
        return FileChange(path, name, decoded.text, new, decoded.encoding, decoded.bom)
    return None


# ---------------------------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------------------------

_CLIENT_NOTE = re.compile(r"^module-level async redis client\(s\) ([\w, ]+):")
_BOTO_NOTE = re.compile(r"^shared aioboto3 client\(s\) ([\w, ]+):")


def _drop_closed_client_notes(changes: list[FileChange]) -> None:
    """A module defining a redis client has no lifespan, but another module's lifespan closes the client:
    the note asking to close it does not apply (targets see one file; this sees them all). Same for a
    module's shared httpx client whose ``close_http_client()`` another module imports and awaits."""
    texts = [c.new for c in changes if c.rel.endswith(".py")]
    httpx_note = re.compile(r"^shared httpx client `get_(\w+)\(\)`:")
    for change in changes:
        kept = []
        for finding, why in change.review:
            m = httpx_note.match(why)
            if m:
                closer = f"close_{m.group(1)}"
                parts = change.rel[:-3].split("/")
                parts = parts[:-1] if parts[-1] == "__init__" else parts
                tails = [".".join(parts[i:]) for i in range(len(parts))]
                if any(f"await {closer}()" in c.new or any(f"await {tail}.{closer}()" in c.new for tail in tails)
                       for c in changes if c is not change and c.rel.endswith(".py")
                       and any(re.search(rf"^\s*(from\s+\.*{re.escape(tail)}\s+import\b[^\n]*\b{closer}\b"
                                         rf"|import\s+{re.escape(tail)}\b)", c.new, re.M) for tail in tails)):
                    continue
            m = _CLIENT_NOTE.match(why)
            if m and all(any(f"{name.strip()}.aclose()" in t for t in texts) for name in m.group(1).split(",")):
                continue
            m = _BOTO_NOTE.match(why)
            if m and all(any(f"close_{name.strip()}()" in t for t in texts) for name in m.group(1).split(",")):
                continue
            kept.append((finding, why))
        change.review = kept


def _check_imports(result, changes: list[FileChange], sources: dict[str, str]) -> list[str]:
    from .import_integrity import broken_imports

    new = {c.rel: c.new for c in changes if c.changed and not c.error and c.rel.endswith(".py")}
    everything = {f.rel: (f.module, f.is_package, new.get(f.rel, sources.get(f.rel, ""))) for f in result.files
                  if f.rel in sources}
    return broken_imports(everything, new, {rel: sources.get(rel, "") for rel in new}) if new else []


def plan_native(result, config, targets: list[Target], jobs: int = 1) -> tuple[NativePlan, list[FileChange], list[str]]:
    """The native phase's changes for a scan (``result`` must carry its analysis), checked as a whole.

    Returns the plan, one change per planned file, and the imports the rewrite would break; when any
    would break, every change carries an error so nothing is written (a partial rewrite is worse).
    Shared by ``native`` and ``branches native``.
    """
    plan, changes, broken, _ = _plan_native(result, config, targets, jobs)
    return plan, changes, broken


def _plan_native(result, config, targets: list[Target], jobs: int = 1):
    """``plan_native`` and the rewrite of each planned file (path -> ``NativeResult``)."""
    from ..codemods.native.base import NativeConfig

    sources: dict[str, str] = {}
    for f in result.files:
        if f.rel in result.summaries:
            try:
                sources[f.rel] = decode(f.path.read_bytes()).text
            except (OSError, UnicodeDecodeError, SyntaxError, LookupError):
                pass
    native_config = NativeConfig(file_backend=getattr(config, "file_backend", "aiofiles"),
                                 boto3_client_scope=getattr(config, "boto3_client_scope", "lifespan"))
    plan, results = native_rounds_on(result.analysis, sources, targets, native_config, jobs)
    done = {p: (sources[p], r) for p, r in results.items()}
    changes = native_changes(plan, config.root, targets, native_config, jobs=jobs, done=done)
    _drop_closed_client_notes(changes)
    broken = _check_imports(result, changes, sources)
    if broken:
        for change in changes:
            if change.changed:
                change.error = "not written: the rewrite would break an import (see above)"
    return plan, changes, broken, results


def run_native(paths: list[Path], write: bool, select: Optional[list[str]], jobs: Optional[int],
               diff_context: int = 3, quiet: bool = False, progress: bool = True) -> int:
    """Scan, plan, rewrite every planned file, show diffs (or write), summarise. Returns the exit code."""
    from ..codemods.native.targets import select_targets
    from . import report
    from .app import (
        EXIT_OK,
        _load,
        fail,
        phase_exit_code,
        print_review,
        print_unwritten,
        show_diffs,
        write_recorded,
    )
    from .engine import scan as run_scan
    from .progress import progress_factory

    root, config = _load(paths)
    names = [n.strip() for v in select or [] for n in v.split(",") if n.strip()]
    try:
        targets = select_targets(names)
    except KeyError as exc:
        from ..codemods.native.targets import target_names

        raise fail(f"--select: unknown native target(s) {exc.args[0]} (known: {', '.join(target_names())})") from None
    try:
        result = run_scan(paths, config, jobs=jobs, progress=progress_factory(not progress))
    except InputError as exc:
        raise fail(str(exc)) from None
    if result.analysis is None:
        return EXIT_OK
    plan, changes, broken, results = _plan_native(result, config, targets, jobs or os.cpu_count() or 1)
    wanted = sorted({r for t in targets if t.name in plan.targets_used for r in t.requirements})
    if any(c.changed for c in changes):
        req = requirements_change(config.root, wanted)
        if req is not None and req.changed:
            changes.append(req)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    if write:
        write_recorded(root, "native", [t.name for t in targets], result, changes)
    elif not quiet:
        show_diffs(changes, diff_context)
    changed = [c for c in changes if c.changed and not c.error]
    fixed = sum(len(c.fixed) for c in changed)
    review = [(f, why) for c in changes for f, why in c.review]
    # Hazards of the concurrency the phase brings: once every request runs at once on the loop, a request
    # that holds a pooled connection while opening a second session (AM303) exhausts the pool and waits
    # forever on itself; the analysis found them, the native rewrite does not remove them.
    review += [(h, f"hazard: {h.evidence[0] if h.evidence else h.message}; once native, requests run "
                "concurrently on the loop, each needs 2 pooled connections at once, and past half the pool (default "
                "5+10) they wait on each other until pool_timeout - pass the session down or size the pool for 2x "
                "concurrency") for h in result.analysis.hazards if h.code == "AM303"]
    errors = [c for c in changes if c.error]
    verb = "rewrote" if write else "would rewrite"
    offloaded = [f for c in changed if c.rel in results for f in results[c.rel].offloaded]
    kept = len(plan.stops)
    err.print(f"native: {verb} {len(changed)} file(s), {fixed} call(s) made native, "
              f"{len(plan.async_functions)} function(s) made async, {len(review)} left for review, "
              f"{len(offloaded)} call(s) offloaded to a thread, {kept} function(s) kept sync"
              + (f", {len(errors)} file(s) not rewritten" if errors else ""))
    print_review(err, root, review)
    for f in offloaded:
        err.print(f"  offloaded {report.display_path(root, f.path)}:{f.line}:{f.col + 1} {f.code} {f.call}: "
                  f"no native target; `{f.function.rpartition('.')[2]}` becomes async, the call runs in "
                  "`asyncio.to_thread`")
    for stop in plan.stops:
        err.print(f"  stays sync {report.display_path(root, stop.path)}:{stop.line} {stop.function}: {stop.reason}")
    for line in broken:
        err.print(f"  [red]broken import[/red] {line}")
    print_unwritten(err, root, errors, result.skipped)
    return phase_exit_code(errors, result.skipped, bool(changed) and not write, bool(review or plan.stops))


def native_command(
    paths: list[Path] = None,  # type: ignore[assignment]
    write: bool = False,
    select: Optional[list[str]] = None,
    jobs: Optional[int] = None,
    diff_context: int = 3,
) -> None:
    """Switch to async libraries and carry ``async``/``await`` through every caller."""
    import typer

    raise typer.Exit(run_native(paths or [Path(".")], write, select, jobs, diff_context))


def _typer_signature():
    """The typer-annotated command (kept here so ``cli/app.py`` registers it in one line)."""
    import typer

    def native(
        paths: list[Path] = typer.Argument(None, help="Files or folders (default: the current folder)."),
        write: bool = typer.Option(False, "--write", help="Apply the changes (default: show a diff)."),
        select: Optional[list[str]] = typer.Option(None, "--select",
                                                   help="Only these native targets (redis, httpx, sleep, ...)."),
        jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1, help="Worker processes (default: cores)."),
        diff_context: int = typer.Option(3, "--diff-context", min=0, help="Lines of context in diffs."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar on stderr."),
    ) -> None:
        """Switch to async libraries (redis.asyncio, httpx, aiosqlite, AsyncSession...) with async/await
        carried through every caller.

        Dry run by default (a unified diff per file, requirements included); `--write` applies the changes.
        Exit codes: 0 nothing left to do, 1 changes shown or items left for review, 2 errors.
        """
        raise typer.Exit(run_native(paths or [Path(".")], write, select, jobs, diff_context, progress=not quiet))

    return native


native = _typer_signature()

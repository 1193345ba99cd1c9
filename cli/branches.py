"""``asgi-migrate branches``: a phase cut into reviewable git branches, one batch of modules each.

Why it works the way it does:

- **From the base, never the working tree.** The base commit's Python files (plus ``pyproject.toml``,
  the manifest and CODEOWNERS) are read from the object database into a temporary folder; the scan and
  the phase's rewriter run there with the base's own configuration. Uncommitted edits can neither leak
  into a branch nor be disturbed; they are only counted.
- **Nothing of the user's is touched.** Commits are built with plumbing on a temporary index
  (``gitplumbing.Plumbing``): the working tree, ``.git/index``, ``HEAD`` and hooks stay as they were.
  A branch checked out in any worktree is refused, since moving it would change that checkout.
- **Each branch stands alone on the base.** Modules whose changes depend on each other for the phase
  (native: a function turns async and its callers must await it) are kept in one batch: the connected
  components of the phase's dependency map. Offload's map is empty (each call is wrapped at its own
  site), so its batches are free. Batches are then grouped by package, owner or plain size, and ordered
  callee-first over the project's call graph so reviewers read services before the routes using them.
- **Re-runs are idempotent.** Branch names come from the batch order and key; the manifest's run time
  is the base commit's date, so the same base gives byte-identical trees. A branch with the same tree
  and parent is left alone; one holding only our commits (``Migration-Batch:`` trailer) is moved; one
  with anybody else's commit is refused, never overwritten. All ref moves land in one transaction.
"""

from __future__ import annotations

import difflib
import os
import re
import shlex
import subprocess
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

import git

from .. import __version__
from ..codemods.analysis import Finding
from .gitplumbing import (
    NULL_SHA,
    GitError,
    Plumbing,
    RefInfo,
    TreeEntry,
    TreeWriter,
    commit_object,
    has_batch_trailer,
    object_id,
)
from .rewrite import FileChange

PHASES = ("offload", "native")
GROUPINGS = ("module", "package", "owner")
CODEOWNERS_PATHS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")  # GitHub's precedence
PHASE_WHY = {
    "offload": "takes blocking calls off the asyncio event loop: `await asyncio.to_thread(...)` wrappers, "
               "`asyncio.sleep`, and sync helpers extracted where a call cannot be wrapped in place",
    "native": "replaces blocking libraries with async ones and carries `async`/`await` through every caller",
}


class BranchError(Exception):
    """A problem with the request (not a git repo, unknown base...): one line, exit code 2."""


@dataclass
class Options:
    phase: str
    paths: list[Path]
    base: str = "HEAD"
    batch_size: int = 10
    by: str = "package"
    prefix: str = "asgi-migrate/"
    stack: bool = False
    dry_run: bool = False
    verify_cmd: str | None = None
    jobs: int | None = None


@dataclass
class Batch:
    index: int
    total: int
    key: str  # the package, owner or first module the batch is named after
    name: str  # the branch name
    modules: list[str]  # repository paths, callee-first
    changes: list[FileChange]  # their FileChanges (rel is project-relative)

    @property
    def fixed(self) -> list[Finding]:
        return [f for c in self.changes for f in c.fixed]

    @property
    def review(self) -> list[tuple[Finding, str]]:
        return [r for c in self.changes for r in c.review]


@dataclass
class Outcome:
    batch: Batch
    status: str  # created | updated | unchanged | refused | skipped | would create | would update
    commit: str | None = None
    reason: str = ""
    added: int = 0
    removed: int = 0
    verify_ok: bool | None = None
    verify_tail: str = ""
    message: str = ""
    pr: str = ""


@dataclass
class Report:
    phase: str
    base: str
    base_sha: str
    outcomes: list[Outcome] = field(default_factory=list)
    obsolete: list[str] = field(default_factory=list)
    uncommitted: int = 0
    detached_head: bool = False
    review_only: list[FileChange] = field(default_factory=list)  # findings left for review, no rewrite
    not_rewritten: list[FileChange] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (repo path, reason) not analysed
    manifest: str | None = None  # repository path of the manifest, when the base has one
    dry_run: bool = False


# ----- the repository -------------------------------------------------------------------------------------

def open_repo(start: Path) -> git.Repo:
    """The repository holding ``start``; refuses bare repositories (no project to read paths against)."""
    try:
        repo = git.Repo(start.resolve(), search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise BranchError(f"{start}: not in a git repository") from None
    if repo.bare or repo.working_tree_dir is None:
        raise BranchError(f"{repo.git_dir}: a bare repository; run branches from a clone with a working tree")
    return repo


def repo_relative(path: Path, top: Path, what: str = "repository") -> str:
    """``path`` as a posix path relative to ``top`` ('' for top itself); BranchError when outside."""
    try:
        rel = path.resolve().relative_to(top.resolve())
    except ValueError:
        raise BranchError(f"{path}: outside the {what} {top}") from None
    return "" if str(rel) == "." else rel.as_posix()


def _join(*parts: str) -> str:
    return "/".join(p for p in parts if p)


def base_time(plumbing: Plumbing, sha: str) -> str:
    """The base commit's date in the manifest's format: the recorded run time, so re-runs are identical."""
    stamp = plumbing.run("log", "-1", "--format=%cI", sha)
    moment = datetime.fromisoformat(stamp).astimezone(timezone.utc).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")


# ----- the snapshot of the base ---------------------------------------------------------------------------

@dataclass
class Snapshot:
    top: Path  # the temporary folder standing for the repository's top
    project_rel: str  # the project root, relative to the repository top
    entries: dict[str, TreeEntry]  # repository path -> base tree entry, for the files written
    listing: list[TreeEntry] = field(default_factory=list)  # the base's whole tree, folders included

    @property
    def root(self) -> Path:
        return self.top / self.project_rel if self.project_rel else self.top


def extract_snapshot(plumbing: Plumbing, base_sha: str, project_rel: str, into: Path) -> Snapshot:
    """Write the base's Python files, pyproject.toml, manifest and CODEOWNERS under ``into``.

    Blobs are read raw (no smudge filters) so the rewritten bytes are what goes back into blobs.
    Symlinks and submodules are left out: the rewriter never writes through a symlink.
    """
    from .manifest import ManifestError, manifest_path

    listing = plumbing.ls_tree(base_sha, trees=True)
    entries = {e.path: e for e in listing if e.kind == "blob" and e.mode != "120000"}
    snapshot = Snapshot(into, project_rel, {}, listing)
    pyproject = _join(project_rel, "pyproject.toml")
    _write_entries(plumbing, snapshot, [entries[p] for p in (pyproject,) if p in entries])
    try:
        mpath = manifest_path(snapshot.root)
    except ManifestError as exc:
        raise BranchError(f"in the base: {exc}") from None
    manifest_rel = repo_relative(mpath, into) if _inside(mpath, into) else ""
    under = f"{project_rel}/" if project_rel else ""
    wanted = [e for p, e in entries.items()
              if (p.startswith(under) and p.endswith(".py")) or p in (manifest_rel, *CODEOWNERS_PATHS)]
    _write_entries(plumbing, snapshot, wanted)
    return snapshot


def _inside(path: Path, top: Path) -> bool:
    try:
        path.resolve().relative_to(top.resolve())
        return True
    except ValueError:
        return False


def _write_entries(plumbing: Plumbing, snapshot: Snapshot, entries: list[TreeEntry]) -> None:
    blobs = plumbing.read_blobs(e.sha for e in entries)
    for e in entries:
        target = snapshot.top / e.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(blobs[e.sha])
        snapshot.entries[e.path] = e


# ----- the phase --------------------------------------------------------------------------------------------

NATIVE = object()  # the native phase's marker: its changes come from a whole-project plan


def phase_rewriter(phase: str):
    """The rewriter a phase runs; the native phase raises a clear error until its codemod ships."""
    from . import app

    if phase == "offload":
        return app._offload_rewriter
    if phase == "native":
        return NATIVE  # planned project-wide in `_plan`, not file by file
    raise BranchError(f"unknown phase {phase!r} (expected one of {', '.join(PHASES)})")


def no_dependencies(result) -> dict[str, set[str]]:
    """Offload: a call is wrapped where it is made, so no module's rewrite needs another's."""
    return {}


def call_graph_dependencies(result) -> dict[str, set[str]]:
    """Native: a blocking sync function turns async, so every module calling it changes with it.

    Edges (project-relative paths): caller module -> module of each blocking function it calls, from the
    analysis' classified call sites, plus every hop of each finding's ``via`` chain.
    """
    analysis = result.analysis
    deps: dict[str, set[str]] = {}
    if analysis is None:
        return deps
    module_of = analysis.project.function_module
    for qualname, fn in analysis.project.functions.items():
        caller = module_of.get(qualname)
        for _, _, target, _ in analysis.edges(fn):
            callee = module_of.get(target) if target in analysis.blocking else None
            if caller is not None and callee is not None and callee.path != caller.path:
                deps.setdefault(caller.path, set()).add(callee.path)
    for f in result.findings:
        for hop in f.via:
            if hop.path != f.path:
                deps.setdefault(f.path, set()).add(hop.path)
    return deps


DEPENDENCIES: dict[str, Callable[..., dict[str, set[str]]]] = {
    "offload": no_dependencies,
    "native": call_graph_dependencies,
}


def call_graph(result) -> dict[str, set[str]]:
    """Module -> modules it calls into (any project function): the order reviewers should read them in."""
    graph: dict[str, set[str]] = {}
    analysis = result.analysis
    if analysis is None:
        return graph
    module_of = analysis.project.function_module
    for qualname, fn in analysis.project.functions.items():
        caller = module_of.get(qualname)
        for _, _, target, _ in analysis.edges(fn):
            callee = module_of.get(target) if target else None
            if caller is not None and callee is not None and callee.path != caller.path:
                graph.setdefault(caller.path, set()).add(callee.path)
    return graph


def callee_first_rank(modules: Iterable[str], graph: dict[str, set[str]]) -> dict[str, int]:
    """Post-order over the call graph (callees before callers); cycles are cut deterministically."""
    rank: dict[str, int] = {}
    seen: set[str] = set()

    def visit(node: str) -> None:
        stack = [(node, iter(sorted(graph.get(node, ()))))]
        seen.add(node)
        while stack:
            current, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                rank[current] = len(rank)
            elif child not in seen:
                seen.add(child)
                stack.append((child, iter(sorted(graph.get(child, ())))))

    for m in sorted(set(modules) | set(graph)):
        if m not in seen:
            visit(m)
    return rank


# ----- batching ---------------------------------------------------------------------------------------------

def components(modules: list[str], deps: dict[str, set[str]]) -> list[list[str]]:
    """Groups of ``modules`` that must change together: connected components of ``deps`` (undirected,
    through any module, changed or not), each keeping only the modules given."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, targets in deps.items():
        for b in targets:
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    groups: dict[str, list[str]] = {}
    for m in modules:
        groups.setdefault(find(m), []).append(m)
    return list(groups.values())


def make_batches(modules: list[str], deps: dict[str, set[str]], rank: dict[str, int],
                 key_of: Callable[[str], str], size: int) -> list[tuple[str, list[str]]]:
    """(key, modules) batches: dependent modules together, one key per batch, at most ``size`` modules
    unless one dependent group alone is larger (it is never split), ordered callee-first."""
    order = lambda m: (rank.get(m, len(rank)), m)
    comps = [sorted(c, key=order) for c in components(modules, deps)]
    by_key: dict[str, list[list[str]]] = {}
    for comp in sorted(comps, key=lambda c: order(c[0])):
        by_key.setdefault(key_of(comp[0]), []).append(comp)
    batches: list[tuple[str, list[str]]] = []
    for key, comps_of_key in by_key.items():
        current: list[str] = []
        for comp in comps_of_key:
            if current and len(current) + len(comp) > size:
                batches.append((key, current))
                current = []
            current = current + comp
        if current:
            batches.append((key, current))
    batches.sort(key=lambda b: (order(b[1][0]), b[0]))
    return batches


def package_of(path: str) -> str:
    parent = str(PurePosixPath(path).parent)
    return "" if parent == "." else parent


def slug(text: str, fallback: str = "root") -> str:
    """A branch-name-safe rendering of a package path, module or owner."""
    text = re.sub(r"\.py$", "", text)
    out = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")
    out = re.sub(r"-{2,}", "-", out).replace("..", ".")
    return out[:60].rstrip("-.") or fallback


def branch_names(prefix: str, phase: str, batches: list[tuple[str, list[str]]], by: str) -> list[str]:
    """``{prefix}{phase}/{NN}-{slug}``: deterministic for the same batches; repeated slugs get ``-2``..."""
    width = max(2, len(str(len(batches))))
    seen: Counter[str] = Counter()
    names = []
    for i, (key, mods) in enumerate(batches, 1):
        base = slug(mods[0] if by == "module" else key)
        seen[base] += 1
        suffix = f"-{seen[base]}" if seen[base] > 1 else ""
        names.append(f"{prefix}{phase}/{i:0{width}d}-{base}{suffix}")
    return names


_BAD_REF = re.compile(r"(^|/)\.|\.\.|[\x00-\x20\x7f~^:?*\[\\]|@\{|\.lock(/|$)|//|^/|/$|\.$|^-|^@$")


def valid_branch_name(name: str) -> bool:
    """``git check-ref-format --branch`` rules, in Python (a process per name costs more than the rest)."""
    return bool(name) and not _BAD_REF.search(name)


# ----- CODEOWNERS ---------------------------------------------------------------------------------------------

def parse_codeowners(text: str) -> list[tuple[re.Pattern[str], str]]:
    """(pattern, owners) rules in file order; the last matching rule wins (GitHub/GitLab semantics)."""
    rules = []
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "[", "^[")):
            continue
        pattern, *owners = line.split()
        rules.append((_codeowners_regex(pattern), " ".join(owners) or "unowned"))
    return rules


def _codeowners_regex(pattern: str) -> re.Pattern[str]:
    directory = pattern.endswith("/")
    body = pattern.strip("/")
    anchored = pattern.startswith("/") or "/" in body
    out, i = "", 0
    while i < len(body):
        if body.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif body.startswith("**", i):
            out, i = out + ".*", i + 2
        elif body[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif body[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(body[i]), i + 1
    head = "^" if anchored else "^(?:.*/)?"
    tail = "/.*$" if directory else "(?:/.*)?$"
    return re.compile(head + out + tail)


def owner_of(path: str, rules: list[tuple[re.Pattern[str], str]]) -> str:
    owner = "unowned"
    for regex, owners in rules:
        if regex.match(path):
            owner = owners
    return owner


def read_codeowners(snapshot: Snapshot) -> list[tuple[re.Pattern[str], str]]:
    for rel in CODEOWNERS_PATHS:
        path = snapshot.top / rel
        if path.is_file():
            return parse_codeowners(path.read_text(encoding="utf-8", errors="replace"))
    return []


# ----- text: commit message and PR description -------------------------------------------------------------

def diffstat(change: FileChange) -> tuple[int, int]:
    added = removed = 0
    for line in difflib.unified_diff(change.old.splitlines(), change.new.splitlines(), lineterm="", n=0):
        if line.startswith("+") and not line.startswith("+++"):
            added += 1
        elif line.startswith("-") and not line.startswith("---"):
            removed += 1
    return added, removed


def _codes(findings: Iterable[Finding]) -> str:
    counts = Counter(f.code for f in findings)
    return ", ".join(f"{c} x{n}" if n > 1 else c for c, n in sorted(counts.items())) or "none"


def reproduce_command(options: Options, rel_paths: list[str], base_sha: str) -> str:
    args = ["asgi-migrate", "branches", options.phase, *(p or "." for p in rel_paths), "--base", base_sha,
            "--by", options.by, "--batch-size", str(options.batch_size)]
    if options.prefix != "asgi-migrate/":
        args += ["--prefix", options.prefix]
    if options.stack:
        args.append("--stack")
    if options.verify_cmd:
        args += ["--verify-cmd", options.verify_cmd]
    return shlex.join(args)


def commit_message(batch: Batch, options: Options, base_sha: str, project_rel: str, command: str) -> str:
    fixed, review = batch.fixed, batch.review
    lines = [f"asgi-migrate {options.phase}: {batch.key or 'root'} ({batch.index}/{batch.total})", "",
             f"The {options.phase} phase {PHASE_WHY[options.phase]}, in {len(batch.modules)} module(s).", "",
             "Modules:"]
    for change in batch.changes:
        extra = f", {len(change.review)} left for review" if change.review else ""
        lines.append(f"- {_join(project_rel, change.rel)}: {len(change.fixed)} fixed ({_codes(change.fixed)}){extra}")
    lines += ["", f"Findings fixed: {len(fixed)} ({_codes(fixed)})", f"Left for review: {len(review)}",
              f"Codemods: {options.phase} (asgi-migrate {__version__})", f"Base: {base_sha}",
              f"Reproduce: {command}", "", f"Migration-Batch: {batch.name}"]
    return "\n".join(lines) + "\n"


def pr_description(outcome: Outcome, options: Options, base_sha: str, project_rel: str, command: str,
                   previous: str | None) -> str:
    batch = outcome.batch
    repo_path = lambda rel: _join(project_rel, rel)
    out = [f"# asgi-migrate {options.phase} {batch.index}/{batch.total}: {batch.key or 'root'}", "",
           "## What changed and why", "",
           (f"Blocking calls in these modules ran on the asyncio event loop: while one runs, every other request "
            f"of the process waits. This branch {PHASE_WHY[options.phase]}."), "",
           f"Based on `{base_sha[:12]}`" + (f", stacked on `{previous}` (merge that first)." if previous else
                                             "; it can be merged on its own, in any order."), "",
           "| module | findings fixed | left for review | diff |", "| --- | --- | --- | --- |"]
    for change in batch.changes:
        a, r = diffstat(change)
        out.append(f"| `{repo_path(change.rel)}` | {len(change.fixed)} | {len(change.review)} | +{a} -{r} |")
    out += ["", f"## Findings fixed ({len(batch.fixed)})", "", "Lines are in the base commit.", ""]
    for f in sorted(batch.fixed, key=lambda f: (f.path, f.line, f.col)):
        chain = f" (through {' -> '.join(h.function for h in f.via)})" if f.via else ""
        out.append(f"- `{repo_path(f.path)}:{f.line}` {f.code} `{f.call}` in `{f.function}`{chain}")
    out += ["", f"## Left for review ({len(batch.review)})", ""]
    out += [f"- `{repo_path(f.path)}:{f.line}` {f.code} `{f.call}`: {why}"
            for f, why in sorted(batch.review, key=lambda r: (r[0].path, r[0].line))] or ["None."]
    out += ["", "## How to verify", "",
            f"- Read the diff: `git diff {base_sha[:12]}...{batch.name}`.",
            f"- Re-scan: `asgi-migrate scan {' '.join(batch.modules)}` no longer reports the findings above.",
            "- Run the test suite on the branch" + (f": `{options.verify_cmd}`" if options.verify_cmd else "."),
            ]
    if outcome.verify_ok is not None:
        out.append(f"- `{options.verify_cmd}` in a fresh worktree of this branch: "
                   f"**{'passed' if outcome.verify_ok else 'failed'}**.")
    out += ["", "## Reproduce", "", f"```sh\n{command}\n```", "",
            (f"Generated by asgi-migrate {__version__}; re-running the command leaves this branch as is "
             "unless the base or the codemods changed."), ""]
    return "\n".join(out)


# ----- verify ---------------------------------------------------------------------------------------------------

def run_verify(plumbing: Plumbing, commit: str, command: str, project_rel: str) -> tuple[bool, str]:
    """Run ``command`` in a tool-owned detached worktree of ``commit``; (passed, last lines of output)."""
    env = {k: v for k, v in os.environ.items() if k not in ("GIT_INDEX_FILE", "GIT_DIR", "GIT_WORK_TREE")}
    with plumbing.detached_worktree(commit) as where:
        cwd = where / project_rel if project_rel else where
        proc = subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True, text=True,
                              errors="replace", check=False)
    tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
    return proc.returncode == 0, tail


# ----- the run ----------------------------------------------------------------------------------------------

@dataclass
class _Context:
    """Everything a batch needs to become a commit."""

    options: Options
    plumbing: Plumbing
    snapshot: Snapshot
    base_sha: str
    result: object  # ScanResult
    now: str
    command: str
    manifest_rel: str | None
    existing: dict[str, RefInfo]
    checked_out: set[str]
    base_tree: str = ""
    trees: TreeWriter | None = None
    ours: dict[str, tuple[list[str], str]] = field(default_factory=dict)  # commits on them, not in base


def run(options: Options) -> Report:
    """Compute the phase from the base, cut it into batches, write (or show) one branch per batch."""
    if options.phase not in PHASES:
        raise BranchError(f"unknown phase {options.phase!r} (expected one of {', '.join(PHASES)})")
    if options.by not in GROUPINGS:
        raise BranchError(f"--by: expected one of {', '.join(GROUPINGS)}, not {options.by!r}")
    if options.batch_size < 1:
        raise BranchError("--batch-size must be at least 1")
    paths = options.paths or [Path(".")]
    repo = open_repo(paths[0])
    top = Path(repo.working_tree_dir)
    rel_paths = [repo_relative(p, top) for p in paths]
    with ExitStack() as stack:
        objects = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="asgi-migrate-objects-"))) \
            if options.dry_run else None
        plumbing = Plumbing(repo, objects)
        base_sha = plumbing.resolve_commit(options.base)
        if base_sha is None:
            raise BranchError(f"--base {options.base}: not a commit in {top}")
        rewriter = phase_rewriter(options.phase)
        report = Report(options.phase, options.base, base_sha, dry_run=options.dry_run,
                        uncommitted=plumbing.uncommitted(), detached_head=repo.head.is_detached)
        for rel in rel_paths:
            if rel and not plumbing.ref_sha(f"{base_sha}:{rel}"):
                raise BranchError(f"{rel}: not in the base ({options.base})")
        project_rel = _project_rel(paths[0], top)
        for rel in rel_paths:
            if project_rel and rel != project_rel and not rel.startswith(f"{project_rel}/"):
                raise BranchError(f"{rel}: outside the project {project_rel}")
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="asgi-migrate-base-")))
        snapshot = extract_snapshot(plumbing, base_sha, project_rel, tmp)
        result, changes = _plan(snapshot, [tmp / r if r else tmp for r in rel_paths], rewriter, options)
        ctx = _context(options, plumbing, snapshot, base_sha, result, rel_paths, report)
        _collect(report, changes, result, project_rel)
        batches = _batches(ctx, [c for c in changes if c.changed])
        _write(ctx, batches, report)
        return report


def _project_rel(start: Path, top: Path) -> str:
    """The project root (nearest pyproject.toml, as every other command finds it), relative to the top."""
    from .config import find_root

    root = find_root(start)
    return repo_relative(root, top) if _inside(root, top) else ""


def _plan(snapshot: Snapshot, scan_paths: list[Path], rewriter, options: Options):
    """Scan the snapshot with the base's configuration and plan the phase's rewrite of every file."""
    from .config import ConfigError, load_config
    from .engine import scan
    from .files import InputError
    from .rewrite import plan

    try:
        config = load_config(snapshot.root)
        result = scan(scan_paths, config, jobs=options.jobs, use_cache=False)
    except (ConfigError, InputError) as exc:
        raise BranchError(f"in the base: {exc}") from None
    if rewriter is NATIVE:
        from ..codemods.native.targets import all_targets
        from .native_phase import plan_native

        _, changes, broken = plan_native(result, config, all_targets(), options.jobs or 1)
        if broken:
            raise BranchError("native: the rewrite would break an import: " + "; ".join(broken))
        # requirements files are left to the team (one change shared by every batch would conflict)
        return result, [c for c in changes if c.rel.endswith(".py")]
    by_file: dict[str, list[Finding]] = {}
    for f in result.findings:
        by_file.setdefault(f.path, []).append(f)
    return result, plan(by_file, config.root, rewriter, jobs=options.jobs or os.cpu_count() or 1)


def _context(options: Options, plumbing: Plumbing, snapshot: Snapshot, base_sha: str, result,
             rel_paths: list[str], report: Report) -> _Context:
    from .manifest import ManifestError, manifest_path

    try:
        mpath = manifest_path(snapshot.root)
    except ManifestError as exc:
        raise BranchError(str(exc)) from None
    manifest_rel = repo_relative(mpath, snapshot.top) if mpath.is_file() and _inside(mpath, snapshot.top) else None
    report.manifest = manifest_rel
    pattern = f"refs/heads/{options.prefix}{options.phase}"
    base_tree = plumbing.tree_of(base_sha)
    trees = TreeWriter(plumbing)
    trees.seed(base_tree, snapshot.listing)
    return _Context(options, plumbing, snapshot, base_sha, result, base_time(plumbing, base_sha),
                    reproduce_command(options, rel_paths, base_sha), manifest_rel,
                    plumbing.branches(pattern), plumbing.checked_out_refs(), base_tree, trees)


def _collect(report: Report, changes: list[FileChange], result, project_rel: str) -> None:
    report.review_only = [c for c in changes if not c.changed and not c.error and c.review]
    report.not_rewritten = [c for c in changes if c.error]
    report.skipped = [(_join(project_rel, s.path), s.reason) for s in result.skipped]


def _batches(ctx: _Context, changed: list[FileChange]) -> list[Batch]:
    options, project_rel = ctx.options, ctx.snapshot.project_rel
    to_repo = lambda rel: _join(project_rel, rel)
    by_module = {to_repo(c.rel): c for c in changed}
    deps = {to_repo(a): {to_repo(b) for b in bs} for a, bs in DEPENDENCIES[options.phase](ctx.result).items()}
    graph = {to_repo(a): {to_repo(b) for b in bs} for a, bs in call_graph(ctx.result).items()}
    rank = callee_first_rank(by_module, graph)
    if options.by == "owner":
        rules = read_codeowners(ctx.snapshot)
        key_of = lambda m: owner_of(m, rules)
    elif options.by == "package":
        key_of = package_of
    else:
        key_of = lambda m: ""
    grouped = make_batches(sorted(by_module), deps, rank, key_of, options.batch_size)
    names = branch_names(options.prefix, options.phase, grouped, options.by)
    batches = []
    for i, ((key, mods), name) in enumerate(zip(grouped, names), 1):
        if not valid_branch_name(name):
            raise BranchError(f"--prefix {options.prefix!r}: {name!r} is not a valid branch name")
        batches.append(Batch(i, len(grouped), key if options.by != "module" else mods[0], name, mods,
                             [by_module[m] for m in mods]))
    return batches


def _write(ctx: _Context, batches: list[Batch], report: Report) -> None:
    """Build every batch's commit, verify, then write the commits and move all refs in one transaction."""
    plumbing = ctx.plumbing
    writer = _CommitWriter(plumbing)
    code = _code_blobs(ctx, batches)
    manifests = None if ctx.options.verify_cmd else _manifest_blobs(ctx, batches)
    running = _load_manifest(ctx) if ctx.options.stack else None
    parent, parent_tree, previous = ctx.base_sha, ctx.base_tree, None
    updates: list[tuple[str, str, str]] = []
    blocked = False
    with ctx.trees:
        for batch in batches:
            if blocked:
                report.outcomes.append(Outcome(batch, "skipped", reason="an earlier branch of the stack was refused"))
                continue
            files = dict(code[batch.name])
            if manifests is not None:
                files.update(manifests.get(batch.name, {}))
            manifest = running if ctx.options.stack else (None if manifests is not None else _load_manifest(ctx))
            outcome, tree = _build(ctx, writer, batch, parent, parent_tree, files, manifest)
            outcome.pr = pr_description(outcome, ctx.options, ctx.base_sha, ctx.snapshot.project_rel, ctx.command,
                                        previous if ctx.options.stack else None)
            report.outcomes.append(outcome)
            ref = f"refs/heads/{batch.name}"
            if outcome.status in ("created", "updated"):
                updates.append((ref, outcome.commit, ctx.existing[ref].commit if ref in ctx.existing else NULL_SHA))
            if ctx.options.stack:
                blocked = outcome.status == "refused"
                parent, parent_tree, previous = outcome.commit or parent, tree, batch.name
    wanted = {f"refs/heads/{b.name}" for b in batches}
    report.obsolete = sorted(r.removeprefix("refs/heads/") for r in ctx.existing if r not in wanted)
    writer.flush()
    if ctx.options.dry_run:
        for o in report.outcomes:
            o.status = {"created": "would create", "updated": "would update"}.get(o.status, o.status)
    else:
        plumbing.update_refs(updates, f"asgi-migrate branches {ctx.options.phase}")


class _CommitWriter:
    """Commit objects made in Python and written together (one process), or by ``commit-tree`` when the
    user signs commits (it signs; we cannot). The identity is read once, as commit-tree would."""

    def __init__(self, plumbing: Plumbing):
        self.plumbing = plumbing
        self.sign = plumbing.signs_commits()
        self.algorithm = plumbing.object_format()
        self.author = plumbing.ident("AUTHOR")
        self.committer = plumbing.ident("COMMITTER")
        self.pending: list[tuple[str, bytes]] = []

    def commit(self, tree: str, parent: str, message: str, now: bool = False) -> str:
        if self.sign:
            return self.plumbing.commit_tree(tree, [parent], message)
        data = commit_object(tree, [parent], self.author, self.committer, message)
        sha = object_id("commit", data, self.algorithm)
        self.pending.append((sha, data))
        if now:
            self.flush()
        return sha

    def flush(self) -> None:
        if not self.pending:
            return
        written = self.plumbing.write_objects("commit", [data for _, data in self.pending])
        if written != [sha for sha, _ in self.pending]:
            raise GitError("hash-object: commit names differ from the ones computed; nothing was moved")
        self.pending = []


def _load_manifest(ctx: _Context):
    from .manifest import Manifest, ManifestError

    if ctx.manifest_rel is None:
        return None
    try:
        return Manifest.load(ctx.snapshot.root)
    except ManifestError as exc:
        raise BranchError(str(exc)) from None


def _record_phase(ctx: _Context, batch: Batch, manifest) -> None:
    manifest.record_phase(ctx.options.phase, batch.changes, [ctx.options.phase], batch.name, planned=batch.changes,
                          findings=ctx.result.findings, suppressed=_suppressed(ctx.result), now=ctx.now)


def _manifest_blobs(ctx: _Context, batches: list[Batch]) -> dict[str, dict[str, tuple[str, str]]]:
    """Each batch's manifest (with a stack, each on top of the previous), written in one go."""
    if ctx.manifest_rel is None:
        return {}
    running = _load_manifest(ctx)
    texts = []
    for batch in batches:
        manifest = running if ctx.options.stack else _load_manifest(ctx)
        _record_phase(ctx, batch, manifest)
        texts.append(manifest.dumps().encode("utf-8"))
    mode = _mode(ctx, ctx.manifest_rel)
    shas = ctx.plumbing.write_blobs(texts)
    return {b.name: {ctx.manifest_rel: (mode, sha)} for b, sha in zip(batches, shas)}


def _build(ctx: _Context, writer: _CommitWriter, batch: Batch, parent: str, parent_tree: str,
           files: dict[str, tuple[str, str]], manifest) -> tuple[Outcome, str]:
    """The batch's tree and commit; with --verify-cmd the commit is checked out and tested first."""
    options = ctx.options
    outcome = Outcome(batch, "created")
    for change in batch.changes:
        a, r = diffstat(change)
        outcome.added, outcome.removed = outcome.added + a, outcome.removed + r
    outcome.message = commit_message(batch, options, ctx.base_sha, ctx.snapshot.project_rel, ctx.command)
    if manifest is not None:  # verify runs only: the manifest is recorded as we go
        _record_phase(ctx, batch, manifest)
        files[ctx.manifest_rel] = _manifest_blob(ctx, manifest)
    tree = ctx.trees.build(parent_tree, files)
    commit = None
    if options.verify_cmd and not options.dry_run:
        commit = writer.commit(tree, parent, outcome.message, now=True)
        outcome.verify_ok, outcome.verify_tail = run_verify(ctx.plumbing, commit, options.verify_cmd,
                                                            ctx.snapshot.project_rel)
        if manifest is not None:
            _record_verify(ctx, batch, manifest, outcome.verify_ok)
            files[ctx.manifest_rel] = _manifest_blob(ctx, manifest)
            verified_tree = ctx.trees.build(parent_tree, files)
            commit, tree = (commit if verified_tree == tree else None), verified_tree
    _decide(ctx, batch, outcome, tree, parent)
    if outcome.status in ("created", "updated"):
        outcome.commit = commit or writer.commit(tree, parent, outcome.message)
    return outcome, tree


def _decide(ctx: _Context, batch: Batch, outcome: Outcome, tree: str, parent: str) -> None:
    """unchanged (same tree and parent), updated (only our commits on it), refused (anything else)."""
    ref = f"refs/heads/{batch.name}"
    old = ctx.existing.get(ref)
    if ref in ctx.checked_out:
        outcome.status, outcome.reason = "refused", f"{batch.name} is checked out in a worktree; not moved"
        outcome.commit = old.commit if old else None
        return
    if old is None:
        return
    if old.parents == [parent] and _same_content(ctx, old, tree):
        outcome.status, outcome.commit = "unchanged", old.commit
        return
    foreign = [(sha, msg) for sha, msg in _commits_on(ctx, old.commit) if not has_batch_trailer(msg)]
    if foreign:
        sha, msg = foreign[0]
        subject = msg.splitlines()[0] if msg.strip() else ""
        outcome.status, outcome.commit = "refused", old.commit
        outcome.reason = (f"{batch.name} holds {len(foreign)} commit(s) not made by asgi-migrate "
                          f"({sha[:10]} {subject!r}); not overwritten: merge or rename it, then re-run")
        return
    outcome.status = "updated"


def _commits_on(ctx: _Context, tip: str) -> list[tuple[str, str]]:
    """(sha, message) of the commits reachable from ``tip`` and not from the base (newest first)."""
    if not ctx.ours:
        tips = [info.commit for info in ctx.existing.values()]
        ctx.ours = ctx.plumbing.commits_since(ctx.base_sha, tips) or {"": ([], "")}
    out, todo, seen = [], [tip], set()
    while todo:
        sha = todo.pop()
        if sha in seen or sha not in ctx.ours:
            continue
        seen.add(sha)
        parents, message = ctx.ours[sha]
        out.append((sha, message))
        todo.extend(parents)
    return out


def _same_content(ctx: _Context, old: RefInfo, tree: str) -> bool:
    """Same tree; or, on a run without --verify-cmd, the same but for the manifest's verify records
    (a plain re-run must not drop the results an earlier --verify-cmd run recorded)."""
    plumbing = ctx.plumbing
    if old.tree == tree:
        return True
    if ctx.options.verify_cmd or ctx.manifest_rel is None:
        return False
    entry = plumbing.ls_tree(old.commit, ctx.manifest_rel)
    if len(entry) != 1:
        return False
    own = plumbing.ls_tree(tree, ctx.manifest_rel)
    if not own or not _differs_only_by_verify(plumbing, own[0].sha, entry[0].sha):
        return False
    return ctx.trees.build(tree, {ctx.manifest_rel: (entry[0].mode, entry[0].sha)}) == old.tree


def _differs_only_by_verify(plumbing: Plumbing, ours: str, theirs: str) -> bool:
    """Whether manifest ``theirs`` is manifest ``ours`` plus verify runs and verify states."""
    import json

    blobs = plumbing.read_blobs([ours, theirs])
    try:
        a, b = json.loads(blobs[ours]), json.loads(blobs[theirs])
    except (ValueError, KeyError):
        return False
    for doc in (a, b):
        for rec in doc.get("modules", {}).values():
            rec["history"] = [r for r in rec.get("history", []) if r.get("phase") != "verify"]
            rec.get("phases", {}).pop("verify", None)
            rec.pop("hash", None)
    return a == b


def _mode(ctx: _Context, path: str) -> str:
    entry = ctx.snapshot.entries.get(path)
    return entry.mode if entry else "100644"


def _code_blobs(ctx: _Context, batches: list[Batch]) -> dict[str, dict[str, tuple[str, str]]]:
    """Branch -> repository path -> (mode, sha) of each rewritten file (encoding and BOM kept), all
    batches written with one process."""
    items = []
    for batch in batches:
        for change in batch.changes:
            data = (b"\xef\xbb\xbf" if change.bom else b"") + change.new.encode(change.encoding)
            items.append((batch.name, _join(ctx.snapshot.project_rel, change.rel), data))
    shas = ctx.plumbing.write_blobs([data for _, _, data in items])
    out: dict[str, dict[str, tuple[str, str]]] = {b.name: {} for b in batches}
    for (name, path, _), sha in zip(items, shas):
        out[name][path] = (_mode(ctx, path), sha)
    return out


def _manifest_blob(ctx: _Context, manifest) -> tuple[str, str]:
    (sha,) = ctx.plumbing.write_blobs([manifest.dumps().encode("utf-8")])
    return (_mode(ctx, ctx.manifest_rel), sha)


def _suppressed(result) -> list[Finding]:
    return list(result.analysis.suppressed) if result.analysis is not None else []


def _record_verify(ctx: _Context, batch: Batch, manifest, ok: bool) -> None:
    """Verify result per module of the batch; the hash stays the rewritten file's (not the snapshot's)."""
    from .manifest import VerifyOutcome, change_hash

    outcomes = {c.rel: VerifyOutcome(ok=ok) for c in batch.changes}
    manifest.record_verify(outcomes, command=ctx.options.verify_cmd or "", branch=batch.name, now=ctx.now)
    for change in batch.changes:
        rec = manifest.modules.get(change.rel)
        if rec is not None:
            rec.hash = change_hash(change.new, change.encoding, change.bom)
            if rec.history:
                rec.history[-1].hash = rec.hash

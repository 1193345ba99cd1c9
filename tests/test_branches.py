"""`asgi-migrate branches` on temporary repositories: the user's checkout is never touched, re-runs are
idempotent, foreign commits are never overwritten, dependent modules share a batch, every branch compiles
and merging them all gives what `offload --write` gives."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from asgi_migrate.cli.app import app as main_app
from asgi_migrate.cli.branches import (
    Options,
    call_graph_dependencies,
    components,
    make_batches,
    owner_of,
    parse_codeowners,
    run,
)
from asgi_migrate.cli.commands_branches import branches_command
from asgi_migrate.cli.config import load_config
from asgi_migrate.cli.engine import scan
from typer.testing import CliRunner

app = typer.Typer()


@app.callback()
def _group() -> None:
    """A group, so `branches` stays a subcommand as in the real app."""


app.command("branches")(branches_command)
runner = CliRunner()

FILES = {
    "pyproject.toml": "[project]\nname = 'p'\n",
    "app/__init__.py": "",
    "app/services/__init__.py": "",
    "app/services/storage.py": (
        "import json\n\n\n"
        "async def load(path: str) -> dict:\n"
        "    with open(path) as fh:\n"
        "        return json.load(fh)\n"
    ),
    "app/services/cache.py": (
        "import time\n\n\n"
        "def slow_get(key: str) -> str:\n"
        "    time.sleep(0.5)\n"
        "    return key\n\n\n"
        "async def warm() -> None:\n"
        "    time.sleep(0.1)\n"
    ),
    "app/routes/__init__.py": "",
    "app/routes/api.py": (
        "from app.services.cache import slow_get\n\n\n"
        "async def handler(key: str) -> str:\n"
        "    return slow_get(key)\n"
    ),
    "README.md": "demo\n",
}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture(autouse=True)
def _isolated_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No user or system git config leaks in (signing, hooksPath, templates...)."""
    home = tmp_path_factory.mktemp("home")
    (home / ".gitconfig").write_text("[user]\n\tname = Dev\n\temail = dev@example.com\n"
                                     "[init]\n\tdefaultBranch = main\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE", "GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"):
        monkeypatch.delenv(var, raising=False)


def make_repo(root: Path, files: dict[str, str] = FILES) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    return root


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_repo(tmp_path / "repo")
    monkeypatch.chdir(root)
    return root


def invoke(*args: str):
    return runner.invoke(app, ["branches", *args], catch_exceptions=False)


def ours(repo: Path, pattern: str = "refs/heads/asgi-migrate/") -> dict[str, str]:
    out = git(repo, "for-each-ref", "--format=%(refname:short) %(objectname)", pattern)
    return dict(line.split() for line in out.splitlines())


def fingerprint(repo: Path) -> dict[str, str]:
    """Every byte the user owns: working tree files, the index, HEAD, their refs, hooks' marker files."""
    out = {}
    for path in sorted(repo.rglob("*")):
        rel = path.relative_to(repo).as_posix()
        if path.is_file() and not rel.startswith(".git/") or rel in (".git/index", ".git/HEAD", ".git/COMMIT_EDITMSG"):
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        if path.is_file():
            out[f"mtime:{rel}"] = str(path.stat().st_mtime_ns) if not rel.startswith(".git/objects") else ""
    out["refs"] = git(repo, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads/main", "refs/tags")
    out["head"] = git(repo, "rev-parse", "HEAD")
    return {k: v for k, v in out.items() if not k.startswith("mtime:.git/") or k in
            ("mtime:.git/index", "mtime:.git/HEAD")}


def install_hooks(repo: Path) -> Path:
    marker = repo.parent / "hook-ran"
    for hook in ("pre-commit", "commit-msg", "post-commit", "post-checkout", "reference-transaction",
                 "post-rewrite"):
        path = repo / ".git" / "hooks" / hook
        path.write_text(f"#!/bin/sh\necho {hook} >> '{marker}'\n")
        path.chmod(0o755)
    return marker


def tree_files(repo: Path, ref: str) -> dict[str, str]:
    out = {}
    for path in git(repo, "ls-tree", "-r", "--name-only", ref).splitlines():
        out[path] = git(repo, "show", f"{ref}:{path}") if path.endswith((".py", ".json", ".toml")) else ""
    return out


# ----- the user's checkout is never touched --------------------------------------------------------------

def test_working_tree_index_and_head_are_byte_identical_with_a_dirty_tree(repo: Path) -> None:
    marker = install_hooks(repo)
    (repo / "app/services/cache.py").write_text(FILES["app/services/cache.py"] + "# local edit\n")
    (repo / "README.md").write_text("staged\n")
    git(repo, "add", "README.md")
    (repo / "notes.txt").write_text("untracked\n")
    # stale stat data: a plain `git status` would refresh (rewrite) .git/index
    os.utime(repo / "app/routes/api.py", ns=(1, 1))
    before = fingerprint(repo)
    result = invoke("offload", "--batch-size", "1", "--verify-cmd", "true")
    assert result.exit_code == 0, result.stderr
    assert fingerprint(repo) == before
    assert not marker.exists()
    assert "3 uncommitted change(s) left alone" in result.stderr
    assert len(ours(repo)) == 3
    # the local edit never leaks into a branch: built from HEAD
    assert "# local edit" not in git(repo, "show", "asgi-migrate/offload/01-app-services:app/services/cache.py") \
        + git(repo, "show", "asgi-migrate/offload/03-app-services-2:app/services/storage.py")
    assert git(repo, "worktree", "list").count("\n") == 0  # the verify worktrees are gone


def test_detached_head_is_left_detached(repo: Path) -> None:
    git(repo, "checkout", "-q", "--detach", "HEAD")
    before = fingerprint(repo)
    result = invoke("offload")
    assert result.exit_code == 0, result.stderr
    assert fingerprint(repo) == before
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "HEAD"
    assert ours(repo)


def test_changes_come_from_base_not_the_working_tree(repo: Path) -> None:
    first = git(repo, "rev-parse", "HEAD")
    (repo / "app/services/extra.py").write_text("import time\n\n\nasync def f() -> None:\n    time.sleep(1)\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "extra")
    result = invoke("offload", "--base", first, "--by", "module", "--batch-size", "10")
    assert result.exit_code == 0, result.stderr
    (branch,) = ours(repo)
    assert git(repo, "rev-parse", f"{branch}^") == first
    assert "app/services/extra.py" not in tree_files(repo, branch)


def test_dry_run_writes_no_ref_and_no_object(repo: Path) -> None:
    objects_before = sorted(p.name for p in (repo / ".git/objects").rglob("*"))
    result = invoke("offload", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "would create" in result.stderr and "dry run" in result.stderr
    assert ours(repo) == {}
    assert sorted(p.name for p in (repo / ".git/objects").rglob("*")) == objects_before
    assert "## Findings fixed" in result.stdout


# ----- re-runs --------------------------------------------------------------------------------------------

def test_rerun_is_idempotent(repo: Path) -> None:
    assert invoke("offload", "--batch-size", "1").exit_code == 0
    first = ours(repo)
    again = invoke("offload", "--batch-size", "1")
    assert again.exit_code == 0
    assert ours(repo) == first
    assert again.stderr.count("unchanged") == len(first)


def test_changed_branch_of_our_own_commits_is_updated(repo: Path) -> None:
    invoke("offload", "--batch-size", "1")
    before = ours(repo)
    (repo / "README.md").write_text("new base\n")
    git(repo, "commit", "-qam", "main moves on")
    result = invoke("offload", "--batch-size", "1")
    assert result.exit_code == 0
    after = ours(repo)
    assert set(after) == set(before) and all(after[b] != before[b] for b in before)
    assert "updated" in result.stderr
    for branch in after:
        assert git(repo, "rev-parse", f"{branch}^") == git(repo, "rev-parse", "main")


def test_refuses_to_overwrite_a_branch_with_a_foreign_commit(repo: Path) -> None:
    invoke("offload", "--batch-size", "1")
    branch = "asgi-migrate/offload/01-app-services"
    git(repo, "checkout", "-q", branch)
    (repo / "app/services/cache.py").write_text("# reviewer fix\n" + (repo / "app/services/cache.py").read_text())
    git(repo, "commit", "-qam", "reviewer fix")
    foreign = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "main")
    result = invoke("offload", "--batch-size", "1")
    assert result.exit_code == 1
    assert git(repo, "rev-parse", branch) == foreign
    assert "refused" in result.stderr and "not made by asgi-migrate" in result.stderr
    assert "reviewer fix" in result.stderr


def test_branch_checked_out_is_refused(repo: Path) -> None:
    invoke("offload", "--batch-size", "1")
    branch = "asgi-migrate/offload/01-app-services"
    git(repo, "checkout", "-q", branch)
    before = git(repo, "rev-parse", branch)
    result = invoke("offload", "--batch-size", "1", "--base", "main")
    assert result.exit_code == 1
    assert "checked out in a worktree; not moved" in result.stderr
    assert git(repo, "symbolic-ref", "HEAD") == f"refs/heads/{branch}"
    assert git(repo, "rev-parse", branch) == before


def test_obsolete_branches_are_reported(repo: Path) -> None:
    git(repo, "branch", "asgi-migrate/offload/07-gone")
    result = invoke("offload")
    assert "obsolete asgi-migrate/offload/07-gone" in result.stderr
    assert "asgi-migrate/offload/07-gone" in ours(repo)  # reported, never deleted


# ----- batches --------------------------------------------------------------------------------------------

def test_dependent_modules_land_in_one_batch() -> None:
    deps = {"app/routes/api.py": {"app/services/cache.py"}, "app/services/cache.py": {"app/db.py"}}
    modules = ["app/db.py", "app/other.py", "app/routes/api.py", "app/services/cache.py"]
    rank = {"app/db.py": 0, "app/services/cache.py": 1, "app/routes/api.py": 2, "app/other.py": 3}
    batches = make_batches(modules, deps, rank, key_of=lambda m: m.rsplit("/", 1)[0], size=1)
    assert ("app", ["app/db.py", "app/services/cache.py", "app/routes/api.py"]) in batches
    assert ("app", ["app/other.py"]) in batches
    assert batches[0][1][0] == "app/db.py"  # callee first
    assert sorted(map(sorted, components(modules, {}))) == [[m] for m in modules]


def test_native_dependencies_follow_the_call_graph(tmp_path: Path) -> None:
    root = tmp_path / "p"
    for rel, text in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    result = scan([root], load_config(root), jobs=1, use_cache=False)
    deps = call_graph_dependencies(result)
    assert "app/services/cache.py" in deps["app/routes/api.py"]
    comps = components(["app/routes/api.py", "app/services/cache.py", "app/services/storage.py"], deps)
    assert sorted(map(sorted, comps)) == [["app/routes/api.py", "app/services/cache.py"],
                                          ["app/services/storage.py"]]


def test_batch_names_sizes_and_callee_first_order(repo: Path) -> None:
    report = run(Options("offload", [repo], by="module", batch_size=1, dry_run=True))
    names = [o.batch.name for o in report.outcomes]
    assert len(names) == 3 and all(n.startswith("asgi-migrate/offload/0") for n in names)
    modules = [o.batch.modules[0] for o in report.outcomes]
    assert modules.index("app/services/cache.py") < modules.index("app/routes/api.py")
    assert run(Options("offload", [repo], by="module", batch_size=1, dry_run=True)).outcomes[0].batch.name == names[0]
    together = run(Options("offload", [repo], by="package", batch_size=10, dry_run=True))
    assert [o.batch.modules for o in together.outcomes] == [["app/services/cache.py", "app/services/storage.py"],
                                                            ["app/routes/api.py"]]


def test_codeowners_routing(repo: Path) -> None:
    rules = parse_codeowners("* @all\n/app/services/ @storage-team\n*.md @docs\napp/routes/** @web # api\n")
    assert owner_of("app/services/cache.py", rules) == "@storage-team"
    assert owner_of("app/routes/api.py", rules) == "@web"
    assert owner_of("setup.py", rules) == "@all"
    (repo / ".github").mkdir()
    (repo / ".github/CODEOWNERS").write_text("app/ @app\napp/services/cache.py @cache  # last match wins\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "owners")
    report = run(Options("offload", [repo], by="owner", batch_size=10, dry_run=True))
    assert {o.batch.key: o.batch.modules for o in report.outcomes} == {
        "@cache": ["app/services/cache.py"], "@app": ["app/routes/api.py", "app/services/storage.py"]}
    assert {o.batch.name for o in report.outcomes} == {"asgi-migrate/offload/01-cache", "asgi-migrate/offload/02-app"}


# ----- each branch works, together they are the whole phase ----------------------------------------------

def test_each_branch_compiles_and_stands_on_the_base(repo: Path) -> None:
    assert invoke("offload", "--batch-size", "1").exit_code == 0
    base = git(repo, "rev-parse", "HEAD")
    for branch in ours(repo):
        assert git(repo, "rev-list", "--count", f"{base}..{branch}") == "1"
        assert git(repo, "rev-parse", f"{branch}^") == base
        for path, text in tree_files(repo, branch).items():
            if path.endswith(".py"):
                compile(text, path, "exec")
        message = git(repo, "log", "-1", "--format=%B", branch)
        assert f"Migration-Batch: {branch}" in message and "Reproduce: asgi-migrate branches offload" in message


def test_stack_chains_the_branches(repo: Path) -> None:
    assert invoke("offload", "--batch-size", "1", "--stack").exit_code == 0
    names = sorted(ours(repo))
    assert git(repo, "rev-parse", f"{names[0]}^") == git(repo, "rev-parse", "HEAD")
    for previous, current in zip(names, names[1:]):
        assert git(repo, "rev-parse", f"{current}^") == git(repo, "rev-parse", previous)
    assert invoke("offload", "--batch-size", "1", "--stack").stderr.count("unchanged") == 3


def test_merging_every_branch_gives_the_offload_write_tree(repo: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    assert invoke("offload", "--batch-size", "1").exit_code == 0
    merged = tmp_path / "merged"
    git(tmp_path, "clone", "-q", str(repo), str(merged))
    for branch in sorted(ours(repo)):
        git(merged, "merge", "-q", "--no-edit", f"origin/{branch}")
    written = tmp_path / "written"
    shutil.copytree(repo, written, ignore=shutil.ignore_patterns(".git"))
    monkeypatch.chdir(written)
    runner.invoke(main_app, ["offload", "--write", "."], catch_exceptions=False)
    for rel in FILES:
        assert (merged / rel).read_text() == (written / rel).read_text(), rel


# ----- manifest and verify ----------------------------------------------------------------------------------

def test_manifest_is_updated_in_each_branch_and_verify_is_recorded(repo: Path) -> None:
    assert runner.invoke(main_app, ["init", str(repo)]).exit_code == 0
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "manifest")
    check = "python -c \"import ast,sys; ast.parse(open('app/services/cache.py').read()); sys.exit(0)\""
    result = invoke("offload", "--batch-size", "1", "--verify-cmd", check)
    assert result.exit_code == 0, result.stderr
    branch = "asgi-migrate/offload/01-app-services"
    manifest = json.loads(git(repo, "show", f"{branch}:asgi-migrate.lock.json"))["modules"]
    cache = manifest["app/services/cache.py"]
    assert cache["phases"]["offload"]["state"] == "offloaded"
    assert cache["phases"]["verify"]["state"] == "verified"
    assert [h["phase"] for h in cache["history"]][-2:] == ["offload", "verify"]
    assert cache["history"][-1]["branch"] == branch
    assert manifest["app/routes/api.py"]["phases"]["offload"]["state"] == "pending"  # another branch's module
    first = ours(repo)
    assert invoke("offload", "--batch-size", "1", "--verify-cmd", check).exit_code == 0
    assert ours(repo) == first  # the manifest bytes are deterministic too
    assert invoke("offload", "--batch-size", "1").exit_code == 0
    assert ours(repo) == first  # a plain re-run keeps the recorded verify results


def test_failing_verify_is_reported(repo: Path) -> None:
    result = invoke("offload", "--verify-cmd", "echo boom; exit 3")
    assert result.exit_code == 1
    assert "FAIL" in result.stderr and "boom" in result.stderr


def test_pr_descriptions_written_to_pr_dir(repo: Path, tmp_path: Path) -> None:
    result = invoke("offload", "--pr-dir", str(tmp_path / "prs"))
    assert result.exit_code == 0
    files = sorted(p.name for p in (tmp_path / "prs").iterdir())
    assert files == ["offload-01-app-services.md", "offload-02-app-routes.md"]
    text = (tmp_path / "prs" / files[0]).read_text()
    assert "`app/services/cache.py:10` AM150 `time.sleep`" in text and "## How to verify" in text


def test_project_in_a_subfolder_of_the_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_repo(tmp_path / "mono", {"README.md": "mono\n", **{f"svc/{k}": v for k, v in FILES.items()}})
    monkeypatch.chdir(root)
    result = invoke("offload", "svc", "--by", "module", "--batch-size", "10")
    assert result.exit_code == 0, result.stderr
    (branch,) = ours(root)
    changed = git(root, "diff", "--name-only", f"{branch}^", branch).splitlines()
    assert changed == ["svc/app/routes/api.py", "svc/app/services/cache.py", "svc/app/services/storage.py"]
    assert "`svc/app/services/cache.py:10` AM150" in result.stdout


def test_tree_writer_handles_awkward_names(repo: Path) -> None:
    import git as gitpython
    from asgi_migrate.cli.gitplumbing import Plumbing, TreeWriter

    plumbing = Plumbing(gitpython.Repo(repo))
    (blob,) = plumbing.write_blobs([b"x = 1\n"])
    names = ["app/we\"ird\nname.py", '"quoted".py', "app/ünï cödé.py", "new/deep/folder/m.py"]
    with TreeWriter(plumbing) as trees:
        tree = trees.build(plumbing.tree_of("HEAD"), {n: ("100644", blob) for n in names})
    listed = subprocess.run(["git", "ls-tree", "-r", "-z", "--name-only", tree], cwd=repo, check=True,
                            capture_output=True).stdout.decode().split("\0")
    assert set(names) <= set(listed) and "app/services/cache.py" in listed
    assert git(repo, "fsck", "--no-dangling") == ""


# ----- errors ---------------------------------------------------------------------------------------------------

def test_errors_are_one_line_exit_2(tmp_path: Path, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outside = tmp_path / "plain"
    outside.mkdir()
    cases = [
        (["offload", str(outside)], "not in a git repository"),
        (["offload", "--base", "no-such-ref"], "--base no-such-ref: not a commit"),
        (["offload", ".", str(outside)], "outside the repository"),
    ]
    for args, expected in cases:
        result = invoke(*args)
        assert result.exit_code == 2, args
        assert expected in result.stderr and result.stderr.count("\n") == 1, result.stderr
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))
    monkeypatch.chdir(bare)
    result = invoke("offload", str(bare))
    assert result.exit_code == 2 and "bare repository" in result.stderr


# ----- native ---------------------------------------------------------------------------------------------------

def test_native_branches_keep_dependent_modules_together_and_match_write(repo: Path, tmp_path: Path) -> None:
    """`slow_get` turns async in cache.py, so api.py (which must now await it) lands in the same branch."""
    head = git(repo, "rev-parse", "HEAD")
    result = invoke("native", "--batch-size", "1")
    assert result.exit_code in (0, 1), result.stderr
    branches = ours(repo)
    files = {name: set(git(repo, "diff", "--name-only", head, sha).splitlines()) for name, sha in branches.items()}
    # --batch-size 1, yet cache.py and api.py share a branch: api.py must await what cache.py makes async;
    # storage.py depends on nothing and gets its own
    assert sorted(map(sorted, files.values())) == [["app/routes/api.py", "app/services/cache.py"],
                                                   ["app/services/storage.py"]], files
    name, sha = next((n, s) for n, s in branches.items() if "app/routes/api.py" in files[n])
    changed = sorted(files[name])
    assert git(repo, "rev-parse", "HEAD") == head and git(repo, "status", "--porcelain") == ""
    for rel in changed:
        if rel.endswith(".py"):
            compile(git(repo, "show", f"{sha}:{rel}") + "\n", rel, "exec")
    # the same rewrite as `native --write` on a copy of the base
    copy = tmp_path / "copy"
    git(tmp_path, "clone", "-q", str(repo), str(copy))
    tool = Path(sys.executable).parent / "asgi-migrate"
    written = subprocess.run([str(tool), "native", str(copy), "--write"], capture_output=True, text=True)
    assert "native: rewrote" in written.stderr, written.stderr
    for rel in changed:
        if rel.endswith(".py"):
            assert git(repo, "show", f"{sha}:{rel}") == (copy / rel).read_text().rstrip("\n"), rel

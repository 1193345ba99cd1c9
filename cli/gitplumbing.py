"""Git plumbing for ``asgi-migrate branches``: read a commit, write commits and refs, never the user's checkout.

Why plumbing and not ``repo.index`` / ``IndexFile`` / ``git worktree`` per branch:

- ``repo.index`` ignores ``GIT_INDEX_FILE``, ``IndexFile.from_tree`` briefly renames the real
  ``.git/index`` aside (unsafe while the user runs git) and ``IndexFile.commit`` in a linked worktree
  deletes the main repository's ``COMMIT_EDITMSG``. A worktree per branch costs ~600 ms and a checkout.
- Plumbing touches only the object database and the refs we name, and runs no hooks
  (``core.hooksPath=/dev/null`` is set on every call anyway, for the one porcelain command used:
  ``worktree add`` under ``--verify-cmd``). A process costs ~5-10 ms here, so the number of processes
  per branch is the cost: ``read-tree``/``update-index``/``write-tree``/``commit-tree`` on a temporary
  ``GIT_INDEX_FILE`` is 4-6 a branch. ``TreeWriter`` instead edits trees in memory and writes the new
  ones through one long-lived ``git mktree --batch``; blobs and commits are written with one
  ``hash-object --stdin-paths`` each for the whole run, and refs move in one ``update-ref --stdin``
  transaction: a constant dozen processes for the whole run. No index is involved at all, so the
  user's cannot be touched. Signed commits (``commit.gpgSign``) go through ``commit-tree``, which signs.
- ``GIT_OPTIONAL_LOCKS=0`` on every call: ``git status`` would otherwise refresh and rewrite the
  user's ``.git/index`` (its stat cache), and the index must stay byte-identical.

Every command goes through GitPython's ``repo.git.execute`` with an explicit environment.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import git

NULL_SHA = "0" * 40
TOOL_NAME, TOOL_EMAIL = "asgi-migrate", "asgi-migrate@localhost"


class GitError(Exception):
    """A git operation failed; the message is one line for the user."""


@dataclass(frozen=True)
class RefInfo:
    commit: str
    tree: str
    parents: list[str]


@dataclass(frozen=True)
class TreeEntry:
    mode: str  # "100644", "100755", "120000", "160000"
    kind: str  # blob | tree | commit
    sha: str
    path: str  # repository-relative, posix


class Plumbing:
    """Thin wrapper over ``git`` plumbing with a fixed, safe environment."""

    def __init__(self, repo: git.Repo, objects_dir: Path | None = None):
        self.repo = repo
        self.env: dict[str, str] = {"GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0"}
        if objects_dir is not None:  # dry run: new objects go to a throwaway folder, reads see both
            self.env["GIT_OBJECT_DIRECTORY"] = str(objects_dir)
            self.env["GIT_ALTERNATE_OBJECT_DIRECTORIES"] = str(Path(repo.git_dir, "objects").resolve())
        self.env.update(_identity_fallback(repo))

    # ----- running --------------------------------------------------------------------------------
    def run(self, *args: str, env: dict[str, str] | None = None, stdin: bytes | None = None,
            strip: bool = True) -> str:
        """Run ``git -c core.hooksPath=/dev/null ARGS``; raise GitError with git's own message."""
        command = ["git", "-c", "core.hooksPath=/dev/null", *args]
        full_env = {**self.env, **(env or {})}
        try:
            if stdin is None:
                return self.repo.git.execute(command, env=full_env, strip_newline_in_stdout=strip)
            with tempfile.TemporaryFile() as fh:  # GitPython wants a real file for stdin
                fh.write(stdin)
                fh.seek(0)
                return self.repo.git.execute(command, env=full_env, istream=fh, strip_newline_in_stdout=strip)
        except git.GitCommandError as exc:
            message = (exc.stderr or exc.stdout or str(exc)).strip().replace("stderr: ", "").strip("'\n ")
            raise GitError(f"git {args[0]}: {message.splitlines()[-1] if message else 'failed'}") from None

    # ----- reading --------------------------------------------------------------------------------
    def resolve_commit(self, ref: str) -> str | None:
        """Full sha of the commit ``ref`` names, or None."""
        try:
            return self.run("rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
        except GitError:
            return None

    def ref_sha(self, ref: str) -> str | None:
        try:
            return self.run("rev-parse", "--verify", "--quiet", ref) or None
        except GitError:
            return None

    def ls_tree(self, commit: str, under: str = "", trees: bool = False) -> list[TreeEntry]:
        """Every blob (and with ``trees``, every subtree) below ``commit``'s root or ``under``."""
        args = ["ls-tree", "-r", "-z", "--full-tree", *(["-t"] if trees else []), commit]
        if under:
            args += ["--", under]
        out = self.run(*args, strip=False)
        entries = []
        for record in out.split("\0"):
            if not record:
                continue
            meta, path = record.split("\t", 1)
            mode, kind, sha = meta.split()
            entries.append(TreeEntry(mode, kind, sha, path))
        return entries

    def read_blobs(self, shas: Iterable[str]) -> dict[str, bytes]:
        """Contents of many blobs with one ``git cat-file --batch`` (GitPython's reader goes one at a time)."""
        wanted = list(dict.fromkeys(shas))
        if not wanted:
            return {}
        proc = subprocess.run(["git", "cat-file", "--batch"], cwd=self.repo.git_dir, env={**os.environ, **self.env},
                              input="".join(f"{s}\n" for s in wanted).encode(), capture_output=True, check=False)
        if proc.returncode != 0:
            raise GitError(f"git cat-file: {proc.stderr.decode(errors='replace').strip()}")
        out, pos, blobs = proc.stdout, 0, {}
        for sha in wanted:
            header_end = out.index(b"\n", pos)
            header = out[pos:header_end].split()
            if len(header) != 3:
                raise GitError(f"git cat-file: object {sha} is missing")
            size = int(header[2])
            blobs[sha] = out[header_end + 1: header_end + 1 + size]
            pos = header_end + 1 + size + 1
        return blobs

    def tree_of(self, commit: str) -> str:
        return self.run("rev-parse", f"{commit}^{{tree}}")

    def branches(self, pattern: str) -> dict[str, RefInfo]:
        """refs/heads/... -> (commit, tree, parents) for refs matching ``pattern``: one process for all."""
        out = self.run("for-each-ref", "--format=%(refname) %(objectname) %(tree) %(parent)", pattern)
        refs = {}
        for line in out.splitlines():
            name, sha, tree, *parents = line.split()
            refs[name] = RefInfo(sha, tree, parents)
        return refs

    def commits_since(self, base: str, tips: list[str]) -> dict[str, tuple[list[str], str]]:
        """sha -> (parents, message) of every commit reachable from ``tips`` and not from ``base``."""
        if not tips:
            return {}
        out = self.run("log", "-z", "--format=%H %P%n%B", *tips, f"^{base}", "--", strip=False)
        commits = {}
        for record in out.split("\0"):
            record = record.strip("\n")
            if record:
                head, _, body = record.partition("\n")
                sha, *parents = head.split()
                commits[sha] = (parents, body)
        return commits

    def checked_out_refs(self) -> set[str]:
        """Branch refs checked out in any worktree (updating one would change that worktree's HEAD)."""
        out = self.run("worktree", "list", "--porcelain")
        return {line.split(" ", 1)[1] for line in out.splitlines() if line.startswith("branch ")}

    def uncommitted(self) -> int:
        """How many paths differ from HEAD or are untracked (``status`` without rewriting the index)."""
        out = self.run("status", "--porcelain", "-z", "--untracked-files=normal", strip=False)
        count, skip_next = 0, False
        for record in out.split("\0"):
            if skip_next:
                skip_next = False
                continue
            if record:
                count += 1
                skip_next = record[:1] in ("R", "C")  # renames carry the old path as the next record
        return count

    # ----- writing ---------------------------------------------------------------------------------
    def write_blobs(self, contents: list[bytes]) -> list[str]:
        """Store blobs exactly as given (no clean filters: these bytes came from blobs) and return their shas."""
        return self.write_objects("blob", contents)

    def write_objects(self, kind: str, contents: list[bytes]) -> list[str]:
        """Write many objects with one ``hash-object`` (which also checks commits and trees are well formed)."""
        if not contents:
            return []
        with tempfile.TemporaryDirectory(prefix="asgi-migrate-objects-") as tmp:
            paths = []
            for i, data in enumerate(contents):
                p = Path(tmp, str(i))
                p.write_bytes(data)
                paths.append(str(p))
            out = self.run("hash-object", "-t", kind, "-w", "--no-filters", "--stdin-paths",
                           stdin="\n".join(paths).encode() + b"\n")
        return out.split()

    def object_format(self) -> str:
        """sha1 or sha256: how object names are computed in this repository."""
        try:
            return self.run("rev-parse", "--show-object-format") or "sha1"
        except GitError:
            return "sha1"

    def ident(self, who: str) -> str:
        """``Name <email> timestamp tz`` as commit-tree would write it (env, then config, then our fallback)."""
        return self.run("var", f"GIT_{who}_IDENT")

    def signs_commits(self) -> bool:
        try:
            return self.run("config", "--type=bool", "--get", "commit.gpgsign") == "true"
        except GitError:
            return False

    def commit_tree(self, tree: str, parents: list[str], message: str) -> str:
        args = ["commit-tree", tree]
        for p in parents:
            args += ["-p", p]
        return self.run(*args, "-F", "-", stdin=message.encode("utf-8"))

    def update_refs(self, updates: list[tuple[str, str, str]], reason: str) -> None:
        """(ref, new, expected old or NULL_SHA) in one transaction: all land or none does."""
        if not updates:
            return
        lines = "start\n" + "".join(f"update {ref} {new} {old}\n" for ref, new, old in updates) + "prepare\ncommit\n"
        self.run("update-ref", "--create-reflog", "-m", reason, "--stdin", stdin=lines.encode())

    # ----- verify worktrees ---------------------------------------------------------------------------
    @contextmanager
    def detached_worktree(self, commit: str) -> Iterator[Path]:
        """A tool-owned detached worktree of ``commit`` in a temporary folder, removed afterwards."""
        with tempfile.TemporaryDirectory(prefix="asgi-migrate-verify-") as tmp:
            where = Path(tmp, "worktree")
            self.run("worktree", "add", "--detach", "--quiet", str(where), commit)
            try:
                yield where
            finally:
                try:
                    self.run("worktree", "remove", "--force", str(where))
                except GitError:
                    self.run("worktree", "prune")


def _identity_fallback(repo: git.Repo) -> dict[str, str]:
    """Author/committer come from the user's git config; a tool identity only when none is set."""
    env: dict[str, str] = {}
    reader = repo.config_reader()
    for who in ("AUTHOR", "COMMITTER"):
        name = os.environ.get(f"GIT_{who}_NAME") or reader.get_value("user", "name", "")
        email = os.environ.get(f"GIT_{who}_EMAIL") or reader.get_value("user", "email", "")
        if not str(name).strip():
            env[f"GIT_{who}_NAME"] = TOOL_NAME
        if not str(email).strip():
            env[f"GIT_{who}_EMAIL"] = TOOL_EMAIL
    return env


_TRAILER = re.compile(r"^Migration-Batch:\s*\S", re.MULTILINE)


def has_batch_trailer(message: str) -> bool:
    """Whether a commit message carries our ``Migration-Batch:`` trailer (in its last paragraph)."""
    last = message.strip().split("\n\n")[-1]
    return bool(_TRAILER.search(last))


def object_id(kind: str, data: bytes, algorithm: str = "sha1") -> str:
    """The name git gives an object: hash of ``<kind> <size>\\0<data>``."""
    return hashlib.new(algorithm, f"{kind} {len(data)}\0".encode() + data).hexdigest()


def commit_object(tree: str, parents: list[str], author: str, committer: str, message: str) -> bytes:
    """A commit object's bytes, as ``commit-tree`` writes them (UTF-8 message, no encoding header)."""
    head = [f"tree {tree}", *(f"parent {p}" for p in parents), f"author {author}", f"committer {committer}"]
    return ("\n".join(head) + "\n\n" + message).encode("utf-8")


Entries = dict[str, tuple[str, str, str]]  # name -> (mode, kind, sha)


class TreeWriter:
    """Trees edited in memory, new ones written by one long-lived ``git mktree --batch``.

    Why: a tree per changed folder must be rewritten for every branch; spawning git for each costs more
    than everything else together. Known trees (seeded from one recursive ``ls-tree -t`` of the base,
    then every tree written) are kept by sha; an unknown one is read with ``ls-tree`` once.
    """

    def __init__(self, plumbing: Plumbing):
        self.plumbing = plumbing
        self.known: dict[str, Entries] = {}
        self._proc: subprocess.Popen[bytes] | None = None

    def seed(self, root_tree: str, listing: list[TreeEntry]) -> None:
        """Learn every folder of a commit from its recursive listing (with trees)."""
        folders: dict[str, str] = {"": root_tree}
        folders.update({e.path: e.sha for e in listing if e.kind == "tree"})
        for folder_sha in folders.values():
            self.known.setdefault(folder_sha, {})
        for e in listing:
            parent, _, name = e.path.rpartition("/")
            self.known[folders[parent]][name] = (e.mode, e.kind, e.sha)

    def entries(self, tree: str) -> Entries:
        if tree not in self.known:
            self.known[tree] = {e.path: (e.mode, e.kind, e.sha) for e in self._ls(tree)}
        return self.known[tree]

    def _ls(self, tree: str) -> list[TreeEntry]:
        out = self.plumbing.run("ls-tree", "-z", tree, strip=False)
        entries = []
        for record in out.split("\0"):
            if record:
                meta, name = record.split("\t", 1)
                mode, kind, sha = meta.split()
                entries.append(TreeEntry(mode, kind, sha, name))
        return entries

    def build(self, tree: str | None, files: dict[str, tuple[str, str]]) -> str:
        """The tree ``tree`` with ``files`` (path -> (mode, blob sha)) replaced or added."""
        entries = dict(self.entries(tree)) if tree else {}
        nested: dict[str, dict[str, tuple[str, str]]] = {}
        for path, (mode, sha) in files.items():
            head, sep, rest = path.partition("/")
            if sep:
                nested.setdefault(head, {})[rest] = (mode, sha)
            else:
                entries[head] = (mode, "blob", sha)
        for name, sub in nested.items():
            current = entries.get(name)
            child = current[2] if current and current[1] == "tree" else None
            entries[name] = ("040000", "tree", self.build(child, sub))
        if tree and entries == self.entries(tree):
            return tree
        return self._mktree(entries)

    def _mktree(self, entries: Entries) -> str:
        if self._proc is None:
            self._proc = subprocess.Popen(["git", "-c", "core.hooksPath=/dev/null", "mktree", "--batch"],
                                          cwd=self.plumbing.repo.git_dir, env={**os.environ, **self.plumbing.env},
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        lines = "".join(f"{mode} {kind} {sha}\t{_quote(name)}\n" for name, (mode, kind, sha) in entries.items())
        assert self._proc.stdin is not None and self._proc.stdout is not None
        try:
            self._proc.stdin.write(lines.encode("utf-8", "surrogateescape") + b"\n")
            self._proc.stdin.flush()
            sha = self._proc.stdout.readline().decode().strip()
        except (BrokenPipeError, OSError):
            sha = ""
        if not sha:
            error = self._proc.stderr.read().decode(errors="replace").strip() if self._proc.stderr else ""
            raise GitError(f"git mktree: {error.splitlines()[-1] if error else 'failed'}")
        self.known[sha] = dict(entries)
        return sha

    def close(self) -> None:
        if self._proc is not None:
            if self._proc.stdin:
                self._proc.stdin.close()
            self._proc.wait()
            for stream in (self._proc.stdout, self._proc.stderr):
                if stream:
                    stream.close()
            self._proc = None

    def __enter__(self) -> TreeWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _quote(name: str) -> str:
    """mktree reads C-quoted names when they start with a double quote; quote only when needed."""
    if "\n" not in name and not name.startswith('"'):
        return name
    escaped = name.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'

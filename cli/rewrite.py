"""Plan and apply a phase's rewrites, file by file: dry-run diffs by default, atomic writes on --write.

The codemods are pure (source + findings -> new source); this module reads files, keeps their encoding,
BOM and line endings, checks every result compiles, and writes atomically. ``write_changes`` is the one
write path every phase goes through, so the manifest can record what it wrote.

A file left unchanged has its reason in ``error`` ("not rewritten") and its findings in ``review``. For the
exit codes (0 nothing left, 1 left for review, 2 errors) there are two kinds:

* *refused*: the file cannot be rewritten safely (libcst recurses too deep, the rewrite would not compile or
  cannot be encoded, a symlink, a read-only file): left for review like a file libcst cannot parse, exit 1;
* *failed* (``failed``): reading or writing the file failed (I/O, or changed on disk meanwhile): exit 2.
"""

from __future__ import annotations

import difflib
import os
import stat
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from ..codemods.analysis import Finding
from .files import decode
from .progress import ProgressFactory, silent

# (source, findings of that file) -> (new source, fixed findings, [(finding, reason)] left for review)
Rewriter = Callable[[str, list[Finding]], tuple[str, list[Finding], list[tuple[Finding, str]]]]


@dataclass
class FileChange:
    path: Path
    rel: str
    old: str
    new: str
    encoding: str = "utf-8"
    bom: bool = False
    fixed: list[Finding] = field(default_factory=list)
    review: list[tuple[Finding, str]] = field(default_factory=list)
    error: str = ""  # the file is left unchanged for this reason
    failed: bool = False  # ``error`` is a failure to read or write the file, not a refusal (exit code 2)

    @property
    def changed(self) -> bool:
        return not self.error and self.new != self.old

    def diff(self, context: int = 3) -> str:
        return "".join(difflib.unified_diff(
            self.old.splitlines(keepends=True), self.new.splitlines(keepends=True),
            fromfile=f"a/{self.rel}", tofile=f"b/{self.rel}", n=context))


def _refusal(path: Path) -> str:
    """Why a file must not be rewritten in place, or ''."""
    if path.is_symlink():
        return "is a symlink: not followed for writing"
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        return f"cannot stat: {exc.strerror}"
    if not mode & stat.S_IWUSR or not os.access(path, os.W_OK):
        return "read-only file: not rewritten"
    return ""


RECURSION = "too deeply nested for the rewriter (RecursionError)"


def _refused(change: FileChange, findings: list[Finding], reason: str) -> FileChange:
    """The file stays as it is (not rewritten, ``reason``); every finding is left for review with it."""
    change.new, change.fixed, change.error = change.old, [], reason
    change.review = [(f, reason) for f in findings]
    return change


def plan_file(path: Path, rel: str, findings: list[Finding], rewriter: Rewriter) -> FileChange:
    try:
        data = path.read_bytes()
        decoded = decode(data)
    except (OSError, UnicodeDecodeError, SyntaxError, LookupError) as exc:
        return FileChange(path, rel, "", "", error=f"cannot read: {exc}", failed=True)
    change = FileChange(path, rel, decoded.text, decoded.text, decoded.encoding, decoded.bom)
    try:
        new, fixed, review = rewriter(decoded.text, findings)
    except RecursionError:
        return _refused(change, findings, RECURSION)
    if new != decoded.text:
        try:
            compile(new, str(path), "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:  # never hand back code that does not compile
            return _refused(change, findings,
                            f"rewrite did not compile ({exc.__class__.__name__}: {exc}); left unchanged")
        try:
            new.encode(decoded.encoding)
        except UnicodeEncodeError:
            return _refused(change, findings, f"rewrite cannot be encoded as {decoded.encoding}; left unchanged")
        refusal = _refusal(path)
        if refusal:
            return _refused(change, findings, refusal)
    change.new, change.fixed, change.review = new, fixed, review
    return change


def _plan_one(args: tuple[Path, str, list[Finding], Rewriter]) -> FileChange:
    return plan_file(*args)


def plan(findings_by_file: dict[str, list[Finding]], root: Path, rewriter: Rewriter,
         jobs: int = 1, progress: ProgressFactory | None = None) -> list[FileChange]:
    """Rewrite every file with findings (in memory), in path order, with a progress step per file."""
    work = [(root / rel, rel, fs, rewriter) for rel, fs in sorted(findings_by_file.items())]
    step = (progress or silent)("rewriting", len(work))
    try:
        if jobs > 1 and len(work) > 8:
            # one file per task, largest first: a file costs about its size, and a few large ones
            # would otherwise end up in one worker's chunk while the other sits idle
            order = sorted(range(len(work)), key=lambda i: -_size(work[i][0]))
            out: list[FileChange | None] = [None] * len(work)
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                futures = {pool.submit(_plan_one, work[i]): i for i in order}
                for future in as_completed(futures):
                    out[futures[future]] = future.result()
                    step.advance()
            return [c for c in out if c is not None]
        changes = []
        for w in work:
            changes.append(_plan_one(w))
            step.advance()
        return changes
    finally:
        step.close()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def write_atomic(path: Path, text: str, encoding: str = "utf-8", bom: bool = False) -> None:
    """Replace ``path`` with ``text``: temp file in the same folder, fsync, rename. Mode is kept."""
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)
    mode = stat.S_IMODE(path.stat().st_mode)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".asgi-migrate.tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


WriteHook = Callable[[list[FileChange]], None]


def write_changes(changes: Iterable[FileChange], after_write: WriteHook | None = None) -> list[FileChange]:
    """Write every changed file atomically; return the ones written. ``after_write`` records them."""
    written: list[FileChange] = []
    for change in changes:
        if not change.changed:
            continue
        # The file must still hold what we planned from: never clobber a concurrent edit.
        try:
            current = decode(change.path.read_bytes()).text
        except (OSError, UnicodeDecodeError, SyntaxError) as exc:
            change.error = f"cannot re-read before writing: {exc}"
            change.failed = True
            continue
        if current != change.old:
            change.error = "changed on disk since it was read; not written"
            change.failed = True
            continue
        try:
            write_atomic(change.path, change.new, change.encoding, change.bom)
        except OSError as exc:
            change.error = f"cannot write: {exc.strerror or exc}"
            change.failed = True
            continue
        written.append(change)
    if after_write is not None and written:
        after_write(written)
    return written

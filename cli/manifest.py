"""The migration manifest: the committed record of where each module of a migration stands.

One JSON file at the project root (``asgi-migrate.lock.json``, or ``[tool.asgi-migrate] manifest``).
Why JSON with sorted keys, two-space indent and one module per key: it diffs line by line, and two
phase runs on different modules (on two branches) touch disjoint line ranges separated by unchanged
lines, so git merges them without conflicts. Nothing project-wide changes on a run (no global
timestamp, no global run list): history lives with each module for the same reason.

The record is not trusted for progress: ``status`` re-scans and compares (content hash, findings).
What only the record knows is what the code cannot tell: which phase ran, what it fixed, what it
left for review and why, what a skip decision was, and the verify results.

Stored per module and phase (``phases``): offload ``pending|offloaded|skipped``, native
``pending|native|skipped``, verify ``pending|verified|failed|skipped``; a skip carries a reason.
Transitions (``record_*``): a phase run that leaves no open finding in a module (findings left for
review excepted) moves that phase to its done state; a verify run moves verify to verified or
failed; ``skip`` moves any phase to skipped with a reason; ``unskip`` back to pending. A later
offload that wraps new calls with a native replacement moves native back to pending.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 in CI
    import tomli as tomllib

from .. import __version__
from ..codemods.analysis import Finding
from .cache import CACHE_DIR, digest

MANIFEST_NAME = "asgi-migrate.lock.json"
FORMAT = 1
PHASES = ("offload", "native", "verify")
DONE = {"offload": "offloaded", "native": "native", "verify": "verified"}
STATES = {
    "offload": ("pending", "offloaded", "skipped"),
    "native": ("pending", "native", "skipped"),
    "verify": ("pending", "verified", "failed", "skipped"),
}
LEVELS = ("pending", "offloaded", "native", "verified")  # the ladder `--require` climbs
RUN_PHASES = ("scan", "offload", "native", "verify", "skip")
CATEGORIES = ("fixed", "open", "review", "suppressed")
_CODE = re.compile(r"^AM\d{3}$")
_HASH = re.compile(r"^[0-9a-f]{32}$")


class ManifestError(Exception):
    """The manifest cannot be used; the message names the file and the problem (never a traceback)."""


def manifest_path(root: Path) -> Path:
    """Where the manifest lives: ``[tool.asgi-migrate] manifest`` in pyproject.toml, else the default."""
    pyproject = root / "pyproject.toml"
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return root / MANIFEST_NAME  # a broken pyproject is reported by the configuration loader
    value = data.get("tool", {}).get("asgi-migrate", {})
    value = value.get("manifest") if isinstance(value, dict) else None
    if value is None:
        return root / MANIFEST_NAME
    if not isinstance(value, str) or not value.strip() or Path(value).is_absolute():
        raise ManifestError(f"{pyproject}: [tool.asgi-migrate].manifest must be a relative file path")
    return root / value


def file_hash(data: bytes) -> str:
    """Content hash of a module, the same blake2b as the summary cache."""
    return digest(data)


def change_hash(text: str, encoding: str = "utf-8", bom: bool = False) -> str:
    """The hash of what ``write_atomic`` puts on disk for this text."""
    return file_hash((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding))


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def finding_key(f: Finding) -> tuple[str, str, str]:
    """Identity of a finding that survives edits above it: lines move, code/call/function do not."""
    return (f.code, f.call, f.function)


def _counts(findings: Iterable[Finding]) -> dict[str, int]:
    return dict(sorted(Counter(f.code for f in findings).items()))


def _same(a: Finding, b: Finding) -> bool:
    return (a.line, a.col, a.code, a.call) == (b.line, b.col, b.code, b.call)


@dataclass
class PhaseState:
    state: str = "pending"
    reason: str = ""  # why it was skipped (or why verify failed)


@dataclass
class ReviewItem:
    """A finding a codemod declined, with its reason: still blocking, for a human to look at."""

    line: int
    code: str
    call: str
    function: str
    reason: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.code, self.call, self.function)


@dataclass
class Run:
    """One entry of a module's history: a scan, a phase run, a verify run or a skip decision."""

    at: str
    phase: str
    state: str  # the module's level after the run (pending/offloaded/native/verified/skipped)
    hash: str
    tool_version: str
    codemods: list[str] = field(default_factory=list)
    fixed: dict[str, int] = field(default_factory=dict)
    review: dict[str, int] = field(default_factory=dict)
    native_todo: int = 0  # calls offloaded by this run that have a native replacement
    branch: str | None = None
    commit: str | None = None
    verify: dict[str, Any] | None = None
    reason: str = ""


@dataclass
class ModuleRecord:
    hash: str
    tool_version: str = __version__
    module: str = ""
    phases: dict[str, PhaseState] = field(default_factory=lambda: {p: PhaseState() for p in PHASES})
    findings: dict[str, dict[str, int]] = field(default_factory=lambda: {c: {} for c in CATEGORIES})
    review: list[ReviewItem] = field(default_factory=list)
    history: list[Run] = field(default_factory=list)

    def level(self) -> str:
        """The highest rung of the ladder reached by the record (a done phase implies those below)."""
        if self.phases["offload"].state == "skipped":
            return "skipped"
        for phase in reversed(PHASES):
            if self.phases[phase].state == DONE[phase]:
                return DONE[phase]
        return "pending"

    def native_todo(self) -> int:
        """Offloaded calls with a native replacement, recorded since native last ran."""
        total = 0
        for run in self.history:
            if run.phase == "native":
                total = 0
            total += run.native_todo
        return total


@dataclass
class VerifyOutcome:
    """What ``verify`` found for one module: blocking seen at runtime, loop lag."""

    ok: bool
    blocking: list[str] = field(default_factory=list)  # e.g. "app/db.py:12 sqlite3.connect blocked 35 ms"
    max_lag_ms: float | None = None


class Manifest:
    def __init__(self, root: Path, path: Path | None = None, modules: dict[str, ModuleRecord] | None = None):
        self.root = root
        self.path = path or manifest_path(root)
        self.modules: dict[str, ModuleRecord] = modules or {}

    # ----- load / save ------------------------------------------------------------------------------
    @classmethod
    def load(cls, root: Path, missing_ok: bool = False) -> Manifest:
        """Read and validate the manifest; ``ManifestError`` names any problem."""
        path = manifest_path(root)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            if missing_ok:
                return cls(root, path)
            raise ManifestError(f"{path}: no manifest here; run `asgi-migrate init` first") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ManifestError(f"{path}: cannot read: {exc}") from None
        return cls(root, path, parse(text, str(path)))

    def exists(self) -> bool:
        return self.path.exists()

    def dumps(self) -> str:
        return dumps(self.modules)

    def save(self) -> None:
        """Atomic replace (temp file in the same folder, fsync, rename)."""
        text = self.dumps()
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            if self.path.exists():
                os.chmod(tmp, self.path.stat().st_mode & 0o7777)
            else:
                os.chmod(tmp, 0o644)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    # ----- transitions ------------------------------------------------------------------------------
    def _record(self, rel: str, data_hash: str | None = None) -> ModuleRecord:
        rec = self.modules.get(rel)
        if rec is None:
            rec = self.modules[rel] = ModuleRecord(hash=data_hash or self._disk_hash(rel),
                                                   module=_module_name(rel))
        return rec

    def _disk_hash(self, rel: str) -> str:
        try:
            return file_hash((self.root / rel).read_bytes())
        except OSError:
            return ""

    def record_scan(self, result, now: str | None = None) -> list[str]:
        """Add every module with findings (open or suppressed) not yet recorded; returns their keys.

        Modules already recorded are left alone: their progress is measured by ``status``, and
        touching them would make unrelated branches conflict.
        """
        at = now or now_iso()
        open_by = _by_path(result.findings)
        suppressed_by = _by_path(result.analysis.suppressed if result.analysis else [])
        added = []
        for f in result.files:
            rel = f.rel
            if rel in self.modules or not (open_by.get(rel) or suppressed_by.get(rel)):
                continue
            try:
                h = file_hash(f.path.read_bytes())
            except OSError:
                continue
            rec = self.modules[rel] = ModuleRecord(hash=h, module=f.module)
            rec.findings["open"] = _counts(open_by.get(rel, []))
            rec.findings["suppressed"] = _counts(suppressed_by.get(rel, []))
            rec.history.append(Run(at, "scan", rec.level(), h, __version__))
            added.append(rel)
        return added

    def record_phase(self, phase: str, written_changes, codemods: Iterable[str], branch: str | None = None,
                     commit: str | None = None, *, planned=(), findings: Iterable[Finding] | None = None,
                     suppressed: Iterable[Finding] = (), now: str | None = None) -> list[str]:
        """Record an offload/native run: ``written_changes`` are the FileChanges written.

        ``findings`` (the scan the run was planned from) tells what stays open in each written file;
        without it, every finding of the file is taken to be in the change's fixed or review lists.
        ``planned`` may add changes that were not written (left for review only) to record why.
        """
        if phase not in ("offload", "native"):
            raise ValueError(f"record_phase: unknown phase {phase!r}")
        at = now or now_iso()
        codemods = sorted(set(codemods))
        open_by = _by_path(findings or [])
        suppressed_by = _by_path(suppressed)
        written = {c.rel: c for c in written_changes}
        touched = []
        for change in [*written.values(), *(c for c in planned if c.rel not in written and c.review)]:
            rel = change.rel
            is_written = rel in written
            h = change_hash(change.new, change.encoding, change.bom) if is_written else None
            rec = self._record(rel, h)
            if h:
                rec.hash = h
            rec.tool_version = __version__
            review_findings = [f for f, _ in change.review]
            fixed = list(change.fixed) if is_written else []
            remaining = [f for f in open_by.get(rel, [])
                         if not any(_same(f, g) for g in fixed) and not any(_same(f, g) for g in review_findings)]
            for code, n in _counts(fixed).items():
                rec.findings["fixed"][code] = rec.findings["fixed"].get(code, 0) + n
            rec.findings["open"] = _counts(remaining)
            rec.findings["review"] = _counts(review_findings)
            if rel in suppressed_by or findings is not None:
                rec.findings["suppressed"] = _counts(suppressed_by.get(rel, []))
            rec.review = sorted((ReviewItem(_new_line(change, f.line) if is_written else f.line, f.code, f.call,
                                            f.function, why) for f, why in change.review),
                                key=lambda r: (r.line, r.code, r.call))
            state = rec.phases[phase]
            native_todo = sum(1 for f in fixed if "native" in f.fixes) if phase == "offload" else 0
            if not remaining and state.state != "skipped":
                rec.phases[phase] = PhaseState(DONE[phase])
            if phase == "offload" and native_todo and rec.phases["native"].state == "native":
                rec.phases["native"] = PhaseState()  # new offloaded calls to convert
            if phase == "native" and rec.phases["offload"].state == "pending" and not remaining:
                rec.phases["offload"] = PhaseState("offloaded")  # off the loop, natively
            rec.history.append(Run(at, phase, rec.level(), rec.hash, __version__, codemods, _counts(fixed),
                                   _counts(review_findings), native_todo, branch, commit))
            touched.append(rel)
        return touched

    def record_verify(self, outcomes: Mapping[str, VerifyOutcome], *, command: str = "",
                      branch: str | None = None, commit: str | None = None, now: str | None = None) -> list[str]:
        """Record a verify run: per module, verified or failed with what blocked at runtime.

        A module not yet recorded is added only when verify caught it blocking (a clean one passing
        verification is no news).
        """
        at = now or now_iso()
        touched = []
        for rel, outcome in sorted(outcomes.items()):
            if rel not in self.modules and outcome.ok:
                continue
            rec = self._record(rel)
            rec.hash = self._disk_hash(rel) or rec.hash
            rec.tool_version = __version__
            if rec.phases["verify"].state != "skipped":
                rec.phases["verify"] = (PhaseState("verified") if outcome.ok else
                                        PhaseState("failed", f"{len(outcome.blocking)} blocking call(s) at runtime"))
            result: dict[str, Any] = {"ok": outcome.ok, "blocking": list(outcome.blocking)}
            if outcome.max_lag_ms is not None:
                result["max_lag_ms"] = round(float(outcome.max_lag_ms), 3)
            if command:
                result["command"] = command
            rec.history.append(Run(at, "verify", rec.level(), rec.hash, __version__, branch=branch,
                                   commit=commit, verify=result))
            touched.append(rel)
        return touched

    def skip(self, rel: str, reason: str, phases: Iterable[str] = PHASES, now: str | None = None) -> None:
        """Record a decision not to migrate (a phase of) a module; the reason is required."""
        if not reason.strip():
            raise ValueError("a skip needs a reason")
        rec = self._record(rel)
        names = list(phases)
        for phase in names:
            if phase not in PHASES:
                raise ValueError(f"unknown phase {phase!r}")
            rec.phases[phase] = PhaseState("skipped", reason.strip())
        rec.history.append(Run(now or now_iso(), "skip", rec.level(), rec.hash, __version__,
                               codemods=names, reason=reason.strip()))

    def unskip(self, rel: str, phases: Iterable[str] = PHASES, now: str | None = None) -> None:
        rec = self.modules[rel]
        for phase in phases:
            if rec.phases[phase].state == "skipped":
                rec.phases[phase] = PhaseState()
        rec.history.append(Run(now or now_iso(), "skip", rec.level(), rec.hash, __version__,
                               reason="skip withdrawn"))


def _new_line(change, line: int) -> int:
    """Where a line of the planned-from text sits in the written text (the rewrite may add imports)."""
    import difflib

    matcher = difflib.SequenceMatcher(None, change.old.splitlines(), change.new.splitlines(), autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if i1 <= line - 1 < i2:
            return j1 + (line - 1 - i1) + 1 if tag == "equal" else j1 + 1
    return line


def _module_name(rel: str) -> str:
    parts = rel[:-3].split("/") if rel.endswith(".py") else rel.split("/")
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _by_path(findings: Iterable[Finding]) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {}
    for f in findings:
        out.setdefault(f.path, []).append(f)
    return out


# ----- serialisation ------------------------------------------------------------------------------------

def _run_dict(run: Run) -> dict[str, Any]:
    d: dict[str, Any] = {"at": run.at, "phase": run.phase, "state": run.state, "hash": run.hash,
                         "tool_version": run.tool_version}
    for key in ("codemods", "fixed", "review", "native_todo", "branch", "commit", "verify", "reason"):
        value = getattr(run, key)
        if value:
            d[key] = value
    return d


def to_dict(modules: Mapping[str, ModuleRecord]) -> dict[str, Any]:
    out = {}
    for rel, rec in modules.items():
        phases = {}
        for p in PHASES:
            st = rec.phases[p]
            phases[p] = {"state": st.state, **({"reason": st.reason} if st.reason else {})}
        out[rel] = {
            "module": rec.module,
            "hash": rec.hash,
            "tool_version": rec.tool_version,
            "phases": phases,
            "findings": {c: dict(sorted(rec.findings.get(c, {}).items())) for c in CATEGORIES},
            "review": [vars(r) for r in rec.review],
            "history": [_run_dict(r) for r in rec.history],
        }
    return {"asgi-migrate": "migration manifest: edit with care, `asgi-migrate status` re-checks it",
            "format": FORMAT, "modules": out}


def dumps(modules: Mapping[str, ModuleRecord]) -> str:
    return json.dumps(to_dict(modules), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class _Invalid(Exception):
    pass


def _expect(cond: bool, where: str, what: str) -> None:
    if not cond:
        raise _Invalid(f"{where}: {what}")


def _str(d: Mapping, key: str, where: str, required: bool = True, pattern: re.Pattern[str] | None = None) -> str:
    if key not in d:
        _expect(not required, where, f"missing key {key!r}")
        return ""
    v = d[key]
    _expect(isinstance(v, str), f"{where}.{key}", f"must be a string, not {type(v).__name__}")
    if pattern is not None:
        _expect(bool(pattern.match(v)), f"{where}.{key}", f"{v!r} is not valid")
    return v


def _int(v: Any, where: str) -> int:
    _expect(isinstance(v, int) and not isinstance(v, bool) and v >= 0, where, "must be a count (integer >= 0)")
    return v


def _keys(d: Any, where: str, allowed: set[str], required: set[str] = frozenset()) -> None:
    _expect(isinstance(d, dict), where, f"must be an object, not {type(d).__name__}")
    unknown = sorted(set(d) - allowed)
    _expect(not unknown, where, f"unknown key {unknown[0]!r}" if unknown else "")
    missing = sorted(required - set(d))
    _expect(not missing, where, f"missing key {missing[0]!r}" if missing else "")


def _code_counts(d: Any, where: str) -> dict[str, int]:
    _expect(isinstance(d, dict), where, "must be an object of finding code -> count")
    for code, n in d.items():
        _expect(bool(_CODE.match(code)), where, f"{code!r} is not a finding code (AMnnn)")
        _int(n, f"{where}.{code}")
    return dict(d)


def _parse_run(d: Any, where: str) -> Run:
    _keys(d, where, {"at", "phase", "state", "hash", "tool_version", "codemods", "fixed", "review",
                     "native_todo", "branch", "commit", "verify", "reason"},
          {"at", "phase", "state", "hash", "tool_version"})
    at = _str(d, "at", where)
    try:
        datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        raise _Invalid(f"{where}.at: {at!r} is not an ISO 8601 time") from None
    phase = _str(d, "phase", where)
    _expect(phase in RUN_PHASES, f"{where}.phase", f"{phase!r} is not one of {', '.join(RUN_PHASES)}")
    state = _str(d, "state", where)
    _expect(state in (*LEVELS, "skipped"), f"{where}.state", f"{state!r} is not one of {', '.join(LEVELS)}, skipped")
    codemods = d.get("codemods", [])
    _expect(isinstance(codemods, list) and all(isinstance(c, str) for c in codemods), f"{where}.codemods",
            "must be a list of strings")
    for key in ("branch", "commit"):
        _str(d, key, where, required=False)
    verify = d.get("verify")
    if verify is not None:
        _keys(verify, f"{where}.verify", {"ok", "blocking", "max_lag_ms", "command"}, {"ok"})
        _expect(isinstance(verify["ok"], bool), f"{where}.verify.ok", "must be true or false")
    return Run(at, phase, state, _str(d, "hash", where), _str(d, "tool_version", where), list(codemods),
               _code_counts(d.get("fixed", {}), f"{where}.fixed"), _code_counts(d.get("review", {}), f"{where}.review"),
               _int(d.get("native_todo", 0), f"{where}.native_todo"), d.get("branch"), d.get("commit"), verify,
               _str(d, "reason", where, required=False))


def _parse_module(rel: str, d: Any, where: str) -> ModuleRecord:
    _expect(bool(rel) and not rel.startswith("/") and "\\" not in rel and ".." not in rel.split("/"), where,
            "module keys are file paths relative to the project root, with /")
    _keys(d, where, {"module", "hash", "tool_version", "phases", "findings", "review", "history"},
          {"hash", "phases"})
    rec = ModuleRecord(hash=_str(d, "hash", where), tool_version=_str(d, "tool_version", where, required=False),
                       module=_str(d, "module", where, required=False) or _module_name(rel))
    _expect(rec.hash == "" or bool(_HASH.match(rec.hash)), f"{where}.hash", f"{rec.hash!r} is not a content hash")
    _keys(d["phases"], f"{where}.phases", set(PHASES), set(PHASES))
    for p in PHASES:
        pw = f"{where}.phases.{p}"
        _keys(d["phases"][p], pw, {"state", "reason"}, {"state"})
        state = _str(d["phases"][p], "state", pw)
        _expect(state in STATES[p], f"{pw}.state", f"{state!r} is not one of {', '.join(STATES[p])}")
        reason = _str(d["phases"][p], "reason", pw, required=False)
        _expect(state != "skipped" or bool(reason.strip()), pw, "a skipped phase needs a reason")
        rec.phases[p] = PhaseState(state, reason)
    findings = d.get("findings", {})
    _keys(findings, f"{where}.findings", set(CATEGORIES))
    rec.findings = {c: _code_counts(findings.get(c, {}), f"{where}.findings.{c}") for c in CATEGORIES}
    review = d.get("review", [])
    _expect(isinstance(review, list), f"{where}.review", "must be a list")
    for i, item in enumerate(review):
        iw = f"{where}.review[{i}]"
        _keys(item, iw, {"line", "code", "call", "function", "reason"}, {"line", "code", "call", "function", "reason"})
        rec.review.append(ReviewItem(_int(item["line"], f"{iw}.line"), _str(item, "code", iw, pattern=_CODE),
                                     _str(item, "call", iw), _str(item, "function", iw), _str(item, "reason", iw)))
    history = d.get("history", [])
    _expect(isinstance(history, list), f"{where}.history", "must be a list")
    rec.history = [_parse_run(r, f"{where}.history[{i}]") for i, r in enumerate(history)]
    return rec


def parse(text: str, name: str = MANIFEST_NAME) -> dict[str, ModuleRecord]:
    """Validate manifest text; ``ManifestError`` says what is wrong and where, in one line."""
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.startswith(("<<<<<<<", ">>>>>>>")) or line == "=======":
            raise ManifestError(f"{name}:{lineno}: unresolved merge conflict markers; resolve the conflict "
                                "(keep both sides' modules), then run `asgi-migrate status` to re-check")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ManifestError(f"{name}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}; "
                            "fix it by hand or restore it from version control") from None
    try:
        _keys(data, "manifest", {"asgi-migrate", "format", "modules"}, {"format", "modules"})
        fmt = data["format"]
        _expect(isinstance(fmt, int) and not isinstance(fmt, bool), "format", "must be an integer")
        _expect(fmt <= FORMAT, "format", f"{fmt} was written by a newer asgi-migrate (this one reads {FORMAT}); "
                "upgrade asgi-migrate")
        _expect(fmt == FORMAT, "format", f"unknown format {fmt}")
        _expect(isinstance(data["modules"], dict), "modules", "must be an object of path -> module record")
        return {rel: _parse_module(rel, d, f"modules[{rel!r}]") for rel, d in data["modules"].items()}
    except _Invalid as exc:
        raise ManifestError(f"{name}: {exc}; fix it by hand or restore it from version control") from None
    except RecursionError:
        raise ManifestError(f"{name}: nested too deeply to be a manifest") from None


# ----- editing under a lock -----------------------------------------------------------------------------

@contextlib.contextmanager
def _lock(root: Path) -> Iterator[None]:
    """Serialise read-modify-write of the manifest between processes on one checkout (POSIX)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: atomic replace still holds, last writer wins
        yield
        return
    folder = root / CACHE_DIR
    try:
        folder.mkdir(exist_ok=True)
        gitignore = folder / ".gitignore"
        if not gitignore.exists():
            gitignore.write_text("# created by asgi-migrate\n*\n")
        fh = open(folder / "manifest.lock", "a+")  # noqa: SIM115 - held for the whole edit below
    except OSError:
        yield
        return
    with fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


@contextlib.contextmanager
def editing(root: Path, missing_ok: bool = False) -> Iterator[Manifest]:
    """Load the manifest fresh, let the caller change it, save it atomically: under a lock, so two
    phase runs on different modules of one checkout both land. A corrupt file raises before any write."""
    with _lock(root):
        manifest = Manifest.load(root, missing_ok=missing_ok)
        yield manifest
        manifest.save()


def phase_recorder(root: Path, phase: str, codemods: Iterable[str], result=None, planned=(),
                   branch: str | None = None, commit: str | None = None):
    """The ``after_write`` hook for ``write_changes``: records the run in the manifest.

    Returns None when the project has no manifest (``asgi-migrate init`` starts recording).
    Validates the manifest now, so a corrupt one stops the phase before any file is rewritten.
    """
    manifest = Manifest.load(root, missing_ok=True)
    if not manifest.exists():
        return None
    codemods = list(codemods)
    findings = list(result.findings) if result is not None else None
    suppressed = list(result.analysis.suppressed) if result is not None and result.analysis else []
    planned = list(planned)

    def after_write(written) -> None:
        with editing(root) as m:
            m.record_phase(phase, written, codemods, branch, commit, planned=planned, findings=findings,
                           suppressed=suppressed)

    return after_write


# ----- init -----------------------------------------------------------------------------------------------

CONFIG_SECTION = """\
[tool.asgi-migrate]
# Added by `asgi-migrate init`. Every key is optional: uncomment one to change its default.
# include = ["app/**"]                      # globs relative to this file (default: every .py file)
# extend-exclude = ["scripts"]              # added to the default excludes (tests, migrations, venvs...)
# blocking-calls = { "legacy.client.fetch_*" = "legacy.client.afetch" }  # your own blocking APIs
# safe-calls = ["app.utils.cheap_*"]        # calls never reported
# include-uncertain = false                 # also report receivers whose type is only guessed
# file-backend = "aiofiles"                 # or "anyio", for the native phase
# manifest = "asgi-migrate.lock.json"       # the migration manifest, committed with the code
#
# [tool.asgi-migrate.per-module."app/legacy/*"]
# ignore = ["AM150", "file-open"]           # codes or categories
"""


@dataclass
class InitResult:
    manifest: Path
    created: bool  # False: a valid manifest was already there (left unchanged)
    config_added: bool  # the commented [tool.asgi-migrate] section was added to pyproject.toml
    modules: list[str]  # modules recorded


def add_config_section(root: Path) -> bool:
    """Append the commented ``[tool.asgi-migrate]`` section unless the table exists; True if added."""
    from .rewrite import write_atomic

    pyproject = root / "pyproject.toml"
    if not pyproject.exists():
        pyproject.write_text(CONFIG_SECTION, encoding="utf-8")
        return True
    raw = pyproject.read_bytes()
    text = raw.decode("utf-8-sig")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{pyproject}: invalid TOML: {exc}") from None
    if "asgi-migrate" in data.get("tool", {}):
        return False
    newline = "\r\n" if "\r\n" in text else "\n"
    head = text.rstrip("\r\n") + newline * 2 if text.strip() else ""
    new = head + CONFIG_SECTION.replace("\n", newline)
    write_atomic(pyproject, new, bom=raw.startswith(b"\xef\xbb\xbf"))
    return True


def init_project(root: Path, config=None, jobs: int | None = None, now: str | None = None) -> InitResult:
    """Create the manifest from a first scan (and the commented configuration section).

    An existing valid manifest is left unchanged; an existing corrupt one is an error, never replaced.
    """
    from .config import load_config
    from .engine import scan

    path = manifest_path(root)
    with _lock(root):
        existing = Manifest.load(root, missing_ok=True)  # raises on a corrupt manifest
        config_added = add_config_section(root)
        if existing.exists():
            return InitResult(path, False, config_added, [])
        config = config or load_config(root)
        result = scan([root], config, jobs=jobs)
        manifest = Manifest(root, path)
        added = manifest.record_scan(result, now=now)
        manifest.save()
    return InitResult(path, True, config_added, added)

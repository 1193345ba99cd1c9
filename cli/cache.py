"""The summary cache: one pickle per project, keyed by file path, checked by content hash.

A hit needs the same tool version, summary format, module name and content hash; the size and
mtime let a warm run skip reading files that did not change at all. ``ResultsCache`` answers an
unchanged tree without reading summaries at all.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..codemods.summary import SUMMARY_VERSION, ModuleSummary

CACHE_DIR = ".asgi-migrate-cache"
_FORMAT = (__version__, SUMMARY_VERSION, 2)


@dataclass
class Entry:
    size: int
    mtime_ns: int
    digest: str
    module: str
    summary: ModuleSummary | None  # None: the file could not be analysed
    error: str = ""
    interface: str = ""  # incremental.interface_digest of the summary
    sites_key: str = ""  # the incremental.project_key the classified sites below are valid for
    sites: dict | None = None  # function qualname -> incremental.encode_sites form


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class SummaryCache:
    """Summaries in 64 shard files (by path hash): a run that re-analyses one file rewrites one shard."""

    SHARDS = 64

    def __init__(self, root: Path, enabled: bool = True):
        self.dir = root / CACHE_DIR
        self.enabled = enabled
        self._shards: dict[int, dict[str, Entry]] = {}
        self._dirty: set[int] = set()

    @staticmethod
    def shard_of(key: str) -> int:
        return hashlib.blake2b(key.encode(), digest_size=2).digest()[0] % SummaryCache.SHARDS

    def _file(self, shard: int) -> Path:
        return self.dir / f"summaries-{shard:02d}.pickle"

    def _shard(self, shard: int) -> dict[str, Entry]:
        entries = self._shards.get(shard)
        if entries is None:
            entries = self._load(shard) if self.enabled else {}
            self._shards[shard] = entries
        return entries

    def _load(self, shard: int) -> dict[str, Entry]:
        try:
            with open(self._file(shard), "rb") as fh:
                fmt, entries = pickle.load(fh)
        except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError, ImportError):
            return {}
        return entries if fmt == _FORMAT and isinstance(entries, dict) else {}

    def get(self, key: str) -> Entry | None:
        return self._shard(self.shard_of(key)).get(key)

    def put(self, key: str, entry: Entry) -> None:
        shard = self.shard_of(key)
        self._shard(shard)[key] = entry
        self._dirty.add(shard)

    def save(self) -> None:
        if not (self.enabled and self._dirty):
            return
        try:
            self.dir.mkdir(exist_ok=True)
            gitignore = self.dir / ".gitignore"
            if not gitignore.exists():
                gitignore.write_text("# created by asgi-migrate\n*\n")
            for shard in sorted(self._dirty):
                fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=".summaries-", suffix=".tmp")
                with os.fdopen(fd, "wb") as fh:
                    pickle.dump((_FORMAT, self._shards[shard]), fh, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(tmp, self._file(shard))
            self._dirty.clear()
        except OSError:
            pass  # a read-only checkout still scans; it just stays cold


class ResultsCache:
    """Findings of the last scans, keyed by the paths scanned and checked by a fingerprint of every file's
    (path, size, mtime), the configuration and the tool version: an unchanged tree skips the analysis."""

    def __init__(self, root: Path, enabled: bool = True):
        self.file = root / CACHE_DIR / "results.pickle"
        self.dir = root / CACHE_DIR
        self.enabled = enabled

    def _read(self) -> dict:
        try:
            with open(self.file, "rb") as fh:
                fmt, data = pickle.load(fh)
        except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError, ImportError):
            return {}
        return data if fmt == _FORMAT and isinstance(data, dict) else {}

    def get(self, key: str, fingerprint: str):
        if not self.enabled:
            return None
        stored = self._read().get(key)
        return stored[1] if stored is not None and stored[0] == fingerprint else None

    def stored(self, key: str) -> tuple | None:
        """(fingerprint, payload, stamps, config key) of the last scan of ``key``, whatever changed since."""
        if not self.enabled:
            return None
        stored = self._read().get(key)
        return stored if isinstance(stored, tuple) and len(stored) == 4 else None

    def put(self, key: str, fingerprint: str, payload, stamps: dict | None = None, config_key: str = "") -> None:
        """``stamps``: rel path -> (module, size, mtime_ns) of the files scanned, so a later scan can tell
        files that were only touched (same bytes, new mtime) from edited ones."""
        if not self.enabled:
            return
        data = self._read()
        data[key] = (fingerprint, payload, stamps, config_key)
        if len(data) > 16:  # keep the most recent few path sets
            for old in list(data)[:-16]:
                del data[old]
        try:
            self.dir.mkdir(exist_ok=True)
            gitignore = self.dir / ".gitignore"
            if not gitignore.exists():
                gitignore.write_text("# created by asgi-migrate\n*\n")
            fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=".results-", suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                pickle.dump((_FORMAT, data), fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.file)
        except OSError:
            pass

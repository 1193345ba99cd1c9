"""The summary cache: one pickle per project, keyed by file path, checked by content hash.

A hit needs the same tool version, summary format, module name and content hash; the size and
mtime let a warm run skip reading files that did not change at all.
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
_FORMAT = (__version__, SUMMARY_VERSION, 1)


@dataclass
class Entry:
    size: int
    mtime_ns: int
    digest: str
    module: str
    summary: ModuleSummary | None  # None: the file could not be analysed
    error: str = ""


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class SummaryCache:
    def __init__(self, root: Path, enabled: bool = True):
        self.dir = root / CACHE_DIR
        self.file = self.dir / "summaries.pickle"
        self.enabled = enabled
        self.entries: dict[str, Entry] = {}
        self.dirty = False
        if enabled:
            self._load()

    def _load(self) -> None:
        try:
            with open(self.file, "rb") as fh:
                fmt, entries = pickle.load(fh)
        except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError, ImportError):
            return
        if fmt == _FORMAT and isinstance(entries, dict):
            self.entries = entries

    def get(self, key: str) -> Entry | None:
        return self.entries.get(key)

    def put(self, key: str, entry: Entry) -> None:
        self.entries[key] = entry
        self.dirty = True

    def save(self) -> None:
        if not (self.enabled and self.dirty):
            return
        try:
            self.dir.mkdir(exist_ok=True)
            gitignore = self.dir / ".gitignore"
            if not gitignore.exists():
                gitignore.write_text("# created by asgi-migrate\n*\n")
            fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=".summaries-", suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                pickle.dump((_FORMAT, self.entries), fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.file)
        except OSError:
            pass  # a read-only checkout still scans; it just stays cold

"""The summary cache: pickles keyed by file path, checked by content hash.

A hit needs the same tool version, summary format, module name and content hash; the size and
mtime let a warm run skip reading files that did not change at all. Each module's classified call
sites (``codemods.incremental``) are kept apart from its summary, in ``sites-NN`` shards, so a cold
scan's workers can write the summary shards themselves while the parent analyses, and the parent
then writes only the small sites shards. ``ResultsCache`` answers an unchanged tree without reading
summaries at all.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..codemods.summary import SUMMARY_VERSION, ModuleSummary

CACHE_DIR = ".asgi-migrate-cache"
_FORMAT = (__version__, SUMMARY_VERSION, 3)


@dataclass
class Entry:
    size: int
    mtime_ns: int
    digest: str
    module: str
    summary: ModuleSummary | None  # None: the file could not be analysed
    error: str = ""
    interface: str = ""  # incremental.interface_digest of the summary


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def encode_shard(entries: dict) -> bytes:
    return pickle.dumps((_FORMAT, entries), protocol=pickle.HIGHEST_PROTOCOL)


def decode_shard(blob: bytes) -> dict:
    fmt, entries = pickle.loads(blob)
    return entries if fmt == _FORMAT and isinstance(entries, dict) else {}


def write_atomically(path: Path, blob: bytes) -> None:
    """Write ``blob`` to ``path`` through a temporary file in the same folder: a reader sees the old
    file or the new one, never a half-written one. Raises ``OSError``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _prepare_dir(folder: Path) -> bool:
    """Create the cache folder with a .gitignore that hides it from git; False when it cannot be written."""
    try:
        folder.mkdir(exist_ok=True)
        gitignore = folder / ".gitignore"
        if not gitignore.exists():
            gitignore.write_text("# created by asgi-migrate\n*\n")
    except OSError:
        return False
    return True


def _load_pickle(path: Path) -> dict:
    """What ``encode_shard`` wrote to ``path``; {} when it is missing, unreadable or of another format."""
    try:
        return decode_shard(path.read_bytes())
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError, ImportError):
        return {}


class SummaryCache:
    """Summaries in 64 shard files (by path hash): a run that re-analyses one file rewrites one shard.
    Classified sites in 64 more, keyed the same way and checked against the summary's content digest."""

    SHARDS = 64

    def __init__(self, root: Path, enabled: bool = True):
        self.dir = root / CACHE_DIR
        self.enabled = enabled
        self._shards: dict[int, dict[str, Entry]] = {}
        self._dirty: set[int] = set()
        # rel -> (content digest, incremental.project_key, {qualname: incremental.encode_sites form})
        self._sites: dict[int, dict[str, tuple[str, str, dict]]] = {}
        self._dirty_sites: set[int] = set()

    @staticmethod
    def shard_of(key: str) -> int:
        return hashlib.blake2b(key.encode(), digest_size=2).digest()[0] % SummaryCache.SHARDS

    def shard_file(self, shard: int) -> Path:
        return self.dir / f"summaries-{shard:02d}.pickle"

    def _sites_file(self, shard: int) -> Path:
        return self.dir / f"sites-{shard:02d}.pickle"

    def _shard(self, shard: int) -> dict[str, Entry]:
        entries = self._shards.get(shard)
        if entries is None:
            entries = _load_pickle(self.shard_file(shard)) if self.enabled else {}
            self._shards[shard] = entries
        return entries

    def is_empty(self, shard: int) -> bool:
        """Whether no run wrote this shard yet (its file missing or unreadable, nothing put since)."""
        return not self._shard(shard)

    def adopt(self, shard: int, entries: dict[str, Entry]) -> None:
        """Entries of an empty shard that a worker already wrote to ``shard_file(shard)``."""
        self._shard(shard).update(entries)

    def prepare(self) -> bool:
        """Create the cache folder; False when it cannot be written (then nothing is cached)."""
        return self.enabled and _prepare_dir(self.dir)

    def get(self, key: str) -> Entry | None:
        return self._shard(self.shard_of(key)).get(key)

    def put(self, key: str, entry: Entry) -> None:
        shard = self.shard_of(key)
        self._shard(shard)[key] = entry
        self._dirty.add(shard)

    def _site_shard(self, shard: int) -> dict[str, tuple[str, str, dict]]:
        sites = self._sites.get(shard)
        if sites is None:
            sites = _load_pickle(self._sites_file(shard)) if self.enabled else {}
            self._sites[shard] = sites
        return sites

    def sites(self, key: str, content: str) -> tuple[str, dict] | None:
        """(project key, classified sites) stored for the file ``key`` with content digest ``content``."""
        stored = self._site_shard(self.shard_of(key)).get(key)
        return (stored[1], stored[2]) if stored is not None and stored[0] == content else None

    def put_sites(self, key: str, content: str, project: str, sites: dict) -> None:
        shard = self.shard_of(key)
        self._site_shard(shard)[key] = (content, project, sites)
        self._dirty_sites.add(shard)

    def save(self) -> None:
        if not (self._dirty or self._dirty_sites) or not self.prepare():
            return
        try:
            for shard in sorted(self._dirty):
                write_atomically(self.shard_file(shard), encode_shard(self._shards[shard]))
            self._dirty.clear()
            for shard in sorted(self._dirty_sites):
                write_atomically(self._sites_file(shard), encode_shard(self._sites[shard]))
            self._dirty_sites.clear()
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
        return _load_pickle(self.file)

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
        if not _prepare_dir(self.dir):
            return
        with contextlib.suppress(OSError):
            write_atomically(self.file, encode_shard(data))

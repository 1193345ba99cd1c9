"""Drive a scan: discover files, build (or reuse) summaries, run the analysis."""

from __future__ import annotations

import gc
import hashlib
import os
import time
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from ..codemods.analysis import Analysis, Finding, Options
from ..codemods.catalog import Catalog
from ..codemods.incremental import interface_digest, project_key
from ..codemods.summary import SUMMARY_VERSION, ModuleSummary, summarize
from .cache import Entry, ResultsCache, SummaryCache, decode_shard, digest, encode_shard, write_atomically
from .config import Config
from .files import SourceFile, decode, discover
from .progress import ProgressFactory, Step, silent

# Below this many files to summarise, worker start-up costs more than it saves.
_PARALLEL_THRESHOLD = 64
# Edited files are summarised in a worker while the cache loads when they are few and weigh this much:
# about 6,000 lines, 80 ms of parsing, against some 20 ms to start the worker.
_PREFETCH_BYTES = 256 * 1024
_PREFETCH_FILES = 16


@dataclass
class Skipped:
    path: str
    reason: str


@dataclass
class ScanResult:
    findings: list[Finding]
    files: list[SourceFile]
    summaries: dict[str, ModuleSummary]  # by relative path
    skipped: list[Skipped] = field(default_factory=list)
    lines: int = 0
    seconds: float = 0.0
    cache_hits: int = 0
    analysis: Analysis | None = None  # None when answered from the results cache
    analysed: int = 0  # files analysed (summaries may be empty when answered from the results cache)
    from_results_cache: bool = False


def summarize_bytes(data: bytes, module: str, rel: str, is_package: bool) -> tuple[ModuleSummary | None, str]:
    """Summary of one file, or the one-line reason it cannot be analysed."""
    if not data.strip():
        return ModuleSummary(module, rel, is_package), ""
    try:
        text = decode(data).text
    except (UnicodeDecodeError, SyntaxError, LookupError) as exc:
        return None, f"cannot decode: {exc.__class__.__name__}: {str(exc)[:80]}"
    try:
        return summarize(text, module, rel, is_package), ""
    except SyntaxError as exc:
        return None, f"syntax error at line {exc.lineno}: {exc.msg}"
    except (ValueError, RecursionError, MemoryError) as exc:
        return None, f"cannot parse: {exc.__class__.__name__}: {str(exc)[:80]}"


def _work(args: tuple[bytes | str, str, str, bool]) -> tuple[ModuleSummary | None, str, str, str]:
    """(summary, error, interface digest, content digest) of one file, given its bytes or its path (then
    read here: a cold scan's files are read and hashed in the workers, not shipped to them)."""
    data, module, rel, is_package = args
    if isinstance(data, str):
        try:
            with open(data, "rb") as fh:
                data = fh.read()
        except OSError as exc:
            return None, f"cannot read: {exc.strerror}", "", ""
    summary, error = summarize_bytes(data, module, rel, is_package)
    return summary, error, interface_digest(summary) if summary is not None else "", digest(data)


# One file of a worker task: (bytes or path, module, rel, is_package, size, mtime_ns) - size and mtime as
# the parent stat-ed them, so the entry matches the stamps of this scan.
_Item = tuple[bytes | str, str, str, bool, int, int]


def _work_group(task: tuple[list[_Item], str | None]) -> tuple[bytes, dict[str, Entry], bool]:
    """Summaries of a group of files, as the pickled cache entries of those that can be cached (one
    pickling serves both the cache file and the trip back to the parent), the entries of those that
    cannot (unreadable), and whether the cache entries were written to ``shard_file`` (given for a shard
    no run wrote yet: the parent then has no cache to write for it)."""
    items, shard_file = task
    cached: dict[str, Entry] = {}
    unreadable: dict[str, Entry] = {}
    for data, module, rel, is_package, size, mtime in items:
        summary, error, interface, d = _work((data, module, rel, is_package))
        entry = Entry(size, mtime, d, module, summary, error, interface)
        (cached if d else unreadable)[rel] = entry
    blob = encode_shard(cached)
    written = False
    if shard_file is not None:
        try:
            write_atomically(Path(shard_file), blob)
            written = True
        except OSError:
            pass  # the parent writes it
    return blob, unreadable, written


@contextmanager
def paused_gc() -> Iterator[None]:
    """ast trees and summaries are large acyclic object graphs: the cyclic GC only burns time on them
    (~40% of a cold scan)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            # what was built meanwhile (summaries, sites) lives as long as the scan: moved out of the
            # collector's generations, so the next collection does not walk millions of objects again
            gc.freeze()
            gc.enable()


def stat_files(files: list[SourceFile]) -> dict[str, os.stat_result | OSError]:
    out: dict[str, os.stat_result | OSError] = {}
    for f in files:
        try:
            out[f.rel] = f.path.stat()
        except OSError as exc:
            out[f.rel] = exc
    return out


def fingerprint(stamps: dict[str, tuple], config_key: str) -> str:
    """What the results cache is valid for: every file's (path, module, size, mtime) and the configuration."""
    h = hashlib.blake2b(config_key.encode(), digest_size=16)
    for rel, stamp in stamps.items():
        h.update(f"{rel}\0{stamp}\n".encode())
    return h.hexdigest()


def build_summaries(files: list[SourceFile], cache: SummaryCache, jobs: int,
                    stats: dict[str, os.stat_result | OSError] | None = None,
                    progress: ProgressFactory | None = None,
                    prefetched: dict[str, Future] | None = None,
                    ) -> tuple[dict[str, ModuleSummary], list[Skipped], int, dict[str, Entry]]:
    """Summaries of ``files`` from the cache or built afresh. ``prefetched``: ``_work`` results already
    under way for some files (see ``_prefetch``)."""
    summaries: dict[str, ModuleSummary] = {}
    entries: dict[str, Entry] = {}
    skipped: list[Skipped] = []
    todo: list[tuple[SourceFile, bytes | str | Future, os.stat_result]] = []
    hits = 0
    stats = stats if stats is not None else stat_files(files)
    for f in files:
        st = stats[f.rel]
        if isinstance(st, OSError):
            skipped.append(Skipped(f.rel, f"cannot read: {st.strerror}"))
            continue
        future = prefetched.get(f.rel) if prefetched else None
        if future is not None:
            todo.append((f, future, st))
            continue
        entry = cache.get(f.rel)
        if entry is not None and entry.size == st.st_size and entry.mtime_ns == st.st_mtime_ns \
                and entry.module == f.module:
            hits += 1
            _collect(f, entry, summaries, skipped, entries)
            continue
        if entry is None:  # nothing to compare with: the worker reads it
            todo.append((f, str(f.path), st))
            continue
        try:
            data = f.path.read_bytes()
        except OSError as exc:
            skipped.append(Skipped(f.rel, f"cannot read: {exc.strerror}"))
            continue
        d = digest(data)
        if entry is not None and entry.digest == d and entry.module == f.module:
            hits += 1
            entry = Entry(st.st_size, st.st_mtime_ns, d, f.module, entry.summary, entry.error, entry.interface)
            cache.put(f.rel, entry)
            _collect(f, entry, summaries, skipped, entries)
            continue
        todo.append((f, data, st))
    step = (progress or silent)("analysing", len(todo))
    got: dict[str, Entry] = {}
    here = [(f, data, st) for f, data, st in todo if not isinstance(data, Future)]
    try:
        with paused_gc():
            if jobs > 1 and len(here) >= _PARALLEL_THRESHOLD:
                _summarize_in_workers(here, cache, jobs, got, step)  # type: ignore[arg-type]
            else:
                for f, data, st in here:
                    _keep(f, st, _work((data, f.module, f.rel, f.is_package)), cache, got)  # type: ignore[arg-type]
                    step.advance()
            for f, future, st in todo:
                if isinstance(future, Future):
                    try:
                        result = future.result()
                    except Exception:  # the worker died (BrokenProcessPool...): do it here instead
                        result = _work((str(f.path), f.module, f.rel, f.is_package))
                    _keep(f, st, result, cache, got)
                    step.advance()
    finally:
        step.close()
    for f, _, _ in todo:
        _collect(f, got[f.rel], summaries, skipped, entries)
    return summaries, skipped, hits, entries


def _keep(f: SourceFile, st: os.stat_result, result: tuple[ModuleSummary | None, str, str, str],
          cache: SummaryCache, got: dict[str, Entry]) -> None:
    summary, error, interface, d = result
    got[f.rel] = entry = Entry(st.st_size, st.st_mtime_ns, d, f.module, summary, error, interface)
    if d:  # a file that could not be read is not cached
        cache.put(f.rel, entry)


def _prefetch(stored: tuple | None, stamps: dict[str, tuple], files: list[SourceFile]
              ) -> tuple[ProcessPoolExecutor | None, dict[str, Future]]:
    """Summaries of the files edited since the last scan of these paths (told by their stamps, before the
    summary cache is read), started in a worker process: a large edited file is parsed while this process
    loads the cache, not after. Only when few files changed and they are large enough to pay for the fork."""
    old = stored[2] if stored is not None else None
    if not old:
        return None, {}
    changed = [f for f in files if stamps[f.rel] != old.get(f.rel) and stamps[f.rel][1] >= 0]
    if not changed or len(changed) > _PREFETCH_FILES or sum(stamps[f.rel][1] for f in changed) < _PREFETCH_BYTES:
        return None, {}
    pool = ProcessPoolExecutor(max_workers=1, initializer=gc.disable)
    return pool, {f.rel: pool.submit(_work, (str(f.path), f.module, f.rel, f.is_package)) for f in changed}


def _summarize_in_workers(todo: list[tuple[SourceFile, bytes | str, os.stat_result]], cache: SummaryCache,
                          jobs: int, got: dict[str, Entry], step: Step) -> None:
    """Summaries of ``todo`` from ``jobs`` worker processes, into ``got`` and the cache. The files of a
    shard no run wrote yet (a cold scan: all of them) go to one worker together, which also writes that
    shard's cache file, so the parent does not pickle a million lines of summaries a second time."""
    groups: list[tuple[list[_Item], int | None]] = []
    loose: list[_Item] = []
    by_shard: dict[int, list[_Item]] = {}
    writable = cache.prepare()
    for f, data, st in todo:
        item: _Item = (data, f.module, f.rel, f.is_package, st.st_size, st.st_mtime_ns)
        shard = cache.shard_of(f.rel)
        if writable and cache.is_empty(shard):
            by_shard.setdefault(shard, []).append(item)
        else:
            loose.append(item)
    groups += [(items, shard) for shard, items in by_shard.items()]
    size = max(1, len(loose) // (jobs * 8))
    groups += [(loose[i:i + size], None) for i in range(0, len(loose), size)]
    # largest groups first, so that no worker is left with a big one at the end
    groups.sort(key=lambda g: -sum(item[4] for item in g[0]))
    tasks = [(items, None if shard is None else str(cache.shard_file(shard))) for items, shard in groups]
    with ProcessPoolExecutor(max_workers=jobs, initializer=gc.disable) as pool:
        for (items, shard), (blob, unreadable, written) in zip(groups, pool.map(_work_group, tasks)):
            cached = decode_shard(blob)
            if written and shard is not None:
                cache.adopt(shard, cached)
            else:
                for rel, entry in cached.items():
                    cache.put(rel, entry)
            got.update(cached)
            got.update(unreadable)
            step.advance(len(items))


def _collect(f: SourceFile, entry: Entry, summaries: dict[str, ModuleSummary], skipped: list[Skipped],
             entries: dict[str, Entry]) -> None:
    if entry.summary is None:
        skipped.append(Skipped(f.rel, entry.error))
    else:
        summaries[f.rel] = entry.summary
        entries[f.rel] = entry


def incremental_analysis(summaries: dict[str, ModuleSummary], entries: dict[str, Entry], cache: SummaryCache,
                         catalog: Catalog, options: Options, config_key: str) -> tuple[Analysis, list[Finding]]:
    """The analysis, reusing the classified call sites of every unchanged module when no module's
    interface changed since they were stored (``codemods.incremental``); stores them for the next run."""
    key = project_key(((rel, e.module, e.interface) for rel, e in entries.items()), config_key)
    reuse: dict = {}
    stale: list[str] = []
    for rel in summaries:
        stored = cache.sites(rel, entries[rel].digest)
        if stored is not None and stored[0] == key:
            for q, encoded in stored[1].items():
                reuse.setdefault(q, encoded)
        else:
            stale.append(rel)
    analysis = Analysis(list(summaries.values()), catalog, options, reuse=reuse)
    with paused_gc():
        findings = analysis.findings()
        for rel in stale:
            cache.put_sites(rel, entries[rel].digest, key, analysis.encoded_sites(summaries[rel]))
    return analysis, findings


def _stamps(files: list[SourceFile], stats: dict[str, os.stat_result | OSError]) -> dict[str, tuple]:
    return {f.rel: (f.module, st.st_size, st.st_mtime_ns) if isinstance(st, os.stat_result)
            else (f.module, -1, str(st)) for f in files for st in (stats[f.rel],)}


def _if_only_touched(stored: tuple | None, stamps: dict[str, tuple], config_key: str, files: list[SourceFile],
                     cache: SummaryCache):
    """The stored results when every file whose mtime changed since still has the bytes the summary cache
    holds (a checkout, a `touch`, a formatter that changed nothing); None as soon as one differs."""
    if stored is None or stored[3] != config_key or stored[2] is None or stored[2].keys() != stamps.keys():
        return None
    old = stored[2]
    by_rel = {f.rel: f for f in files}
    changed = [rel for rel, stamp in stamps.items() if stamp != old[rel]]
    for rel in changed:
        module, size, mtime = stamps[rel]
        entry = cache.get(rel)
        if size < 0 or old[rel][:2] != (module, size) or entry is None or entry.module != module:
            return None
        try:
            data = by_rel[rel].path.read_bytes()
        except OSError:
            return None
        if len(data) != size or digest(data) != entry.digest:
            return None
        cache.put(rel, Entry(size, mtime, entry.digest, module, entry.summary, entry.error, entry.interface))
    return stored[1]


def scan(paths: list[Path], config: Config, jobs: int | None = None, use_cache: bool = True,
         include_uncertain: bool | None = None, need_analysis: bool = True,
         progress: ProgressFactory | None = None) -> ScanResult:
    """Scan ``paths``. With ``need_analysis=False`` (the ``scan`` command) an unchanged tree is answered
    from the results cache without reading summaries or solving the call graph."""
    start = time.perf_counter()
    files = discover(paths, config)
    uncertain = config.include_uncertain if include_uncertain is None else include_uncertain
    stats = stat_files(files)
    results_cache = ResultsCache(config.root, enabled=use_cache)
    key = repr(sorted(str(p.resolve()) for p in paths))
    config_key = repr((__version__, SUMMARY_VERSION, config.fingerprint(), uncertain))
    stamps = _stamps(files, stats)
    mark = fingerprint(stamps, config_key) if use_cache else ""
    cache = SummaryCache(config.root, enabled=use_cache)
    stored = results_cache.stored(key)
    if not need_analysis:
        cached = stored[1] if stored is not None and stored[0] == mark else None
        if cached is None and use_cache:
            cached = _if_only_touched(stored, stamps, config_key, files, cache)
            if cached is not None:  # same bytes everywhere: keep the answer, remember the new mtimes
                cache.save()
                results_cache.put(key, mark, cached, stamps, config_key)
        if cached is not None:
            findings, skipped, lines, analysed = cached
            return ScanResult(findings, files, {}, skipped, lines, time.perf_counter() - start, len(files), None,
                              analysed, True)
    pool, prefetched = _prefetch(stored, stamps, files)
    try:
        with paused_gc():  # unpickling the cache builds millions of objects: the cyclic GC only slows it down
            summaries, skipped, hits, entries = build_summaries(files, cache, jobs or os.cpu_count() or 1, stats,
                                                                progress, prefetched)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    catalog = Catalog(config.blocking_calls, config.safe_calls)
    options = Options(include_uncertain=uncertain, ignore_codes=config.per_module_ignore)
    analysis, findings = incremental_analysis(summaries, entries, cache, catalog, options, config_key)
    with paused_gc():
        cache.save()
    lines = sum(s.lines for s in summaries.values())
    results_cache.put(key, mark, (findings, skipped, lines, len(summaries)), stamps, config_key)
    return ScanResult(findings, files, summaries, skipped, lines, time.perf_counter() - start, hits, analysis,
                      len(summaries))

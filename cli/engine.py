"""Drive a scan: discover files, build (or reuse) summaries, run the analysis."""

from __future__ import annotations

import gc
import hashlib
import os
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from ..codemods.analysis import Analysis, Finding, Options
from ..codemods.catalog import Catalog
from ..codemods.incremental import interface_digest, project_key
from ..codemods.summary import SUMMARY_VERSION, ModuleSummary, summarize
from .cache import Entry, ResultsCache, SummaryCache, digest
from .config import Config
from .files import SourceFile, decode, discover
from .progress import ProgressFactory, silent

# Below this many files to summarise, worker start-up costs more than it saves.
_PARALLEL_THRESHOLD = 64


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
                    ) -> tuple[dict[str, ModuleSummary], list[Skipped], int, dict[str, Entry]]:
    summaries: dict[str, ModuleSummary] = {}
    entries: dict[str, Entry] = {}
    skipped: list[Skipped] = []
    todo: list[tuple[SourceFile, bytes | str, os.stat_result]] = []
    hits = 0
    stats = stats if stats is not None else stat_files(files)
    for f in files:
        st = stats[f.rel]
        if isinstance(st, OSError):
            skipped.append(Skipped(f.rel, f"cannot read: {st.strerror}"))
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
            entry = Entry(st.st_size, st.st_mtime_ns, d, f.module, entry.summary, entry.error, entry.interface,
                          entry.sites_key, entry.sites)
            cache.put(f.rel, entry)
            _collect(f, entry, summaries, skipped, entries)
            continue
        todo.append((f, data, st))
    args = [(data, f.module, f.rel, f.is_package) for f, data, _ in todo]
    step = (progress or silent)("analysing", len(args))
    results: list[tuple[ModuleSummary | None, str, str, str]] = []
    try:
        with paused_gc():
            if jobs > 1 and len(todo) >= _PARALLEL_THRESHOLD:
                with ProcessPoolExecutor(max_workers=jobs, initializer=gc.disable) as pool:
                    for result in pool.map(_work, args, chunksize=max(1, len(args) // (jobs * 8))):
                        results.append(result)
                        step.advance()
            else:
                for a in args:
                    results.append(_work(a))
                    step.advance()
    finally:
        step.close()
    for (f, _, st), (summary, error, interface, d) in zip(todo, results):
        entry = Entry(st.st_size, st.st_mtime_ns, d, f.module, summary, error, interface)
        if d:  # a file that could not be read is not cached
            cache.put(f.rel, entry)
        _collect(f, entry, summaries, skipped, entries)
    return summaries, skipped, hits, entries


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
    for rel in summaries:
        entry = entries[rel]
        if entry.sites_key == key and entry.sites is not None:
            for q, encoded in entry.sites.items():
                reuse.setdefault(q, encoded)
    analysis = Analysis(list(summaries.values()), catalog, options, reuse=reuse)
    with paused_gc():
        findings = analysis.findings()
        for rel, entry in entries.items():
            if entry.sites_key != key:
                entry.sites, entry.sites_key = analysis.encoded_sites(entry.summary), key  # type: ignore[arg-type]
                cache.put(rel, entry)
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
        cache.put(rel, Entry(size, mtime, entry.digest, module, entry.summary, entry.error, entry.interface,
                             entry.sites_key, entry.sites))
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
    if not need_analysis:
        cached = results_cache.get(key, mark)
        if cached is None and use_cache:
            cached = _if_only_touched(results_cache.stored(key), stamps, config_key, files, cache)
            if cached is not None:  # same bytes everywhere: keep the answer, remember the new mtimes
                cache.save()
                results_cache.put(key, mark, cached, stamps, config_key)
        if cached is not None:
            findings, skipped, lines, analysed = cached
            return ScanResult(findings, files, {}, skipped, lines, time.perf_counter() - start, len(files), None,
                              analysed, True)
    with paused_gc():  # unpickling the cache builds millions of objects: the cyclic GC only slows it down
        summaries, skipped, hits, entries = build_summaries(files, cache, jobs or os.cpu_count() or 1, stats,
                                                            progress)
    catalog = Catalog(config.blocking_calls, config.safe_calls)
    options = Options(include_uncertain=uncertain, ignore_codes=config.per_module_ignore)
    analysis, findings = incremental_analysis(summaries, entries, cache, catalog, options, config_key)
    with paused_gc():
        cache.save()
    lines = sum(s.lines for s in summaries.values())
    results_cache.put(key, mark, (findings, skipped, lines, len(summaries)), stamps, config_key)
    return ScanResult(findings, files, summaries, skipped, lines, time.perf_counter() - start, hits, analysis,
                      len(summaries))

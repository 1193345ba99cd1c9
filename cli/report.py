"""Scan reports: rich table, JSON, SARIF 2.1.0 and GitHub workflow annotations."""

from __future__ import annotations

import functools
import json
import os
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .. import __version__
from ..codemods.analysis import Finding
from ..codemods.catalog import CODES
from .engine import ScanResult

RULES_URL = "https://github.com/asgi-migrate/asgi-migrate/blob/main/docs/rules.md"


def display_path(root: Path, rel: str) -> str:
    return _display_path(str(root), rel, os.getcwd())


@functools.lru_cache(maxsize=65536)
def _display_path(root: str, rel: str, cwd: str) -> str:  # a report repeats the same paths in every chain
    absolute = os.path.join(root, rel)
    try:
        shown = os.path.relpath(absolute, cwd)
    except ValueError:
        return absolute
    return absolute if shown.startswith("..") and not cwd.startswith(root) else shown


def finding_dict(f: Finding, root: Path) -> dict:
    return {
        "path": display_path(root, f.path),
        "line": f.line,
        "col": f.col + 1,
        "end_line": f.end_line,
        "end_col": f.end_col + 1,
        "code": f.code,
        "category": f.category,
        "call": f.call,
        "chained": f.chained,
        "function": f.function,
        "message": f.message,
        "via": [{"function": h.function, "path": display_path(root, h.path), "line": h.line, "call": h.call}
                for h in f.via],
        "confidence": f.confidence,
        "evidence": f.evidence,
        "fixes": f.fixes,
        "suggestion": f.native,
        "linter_code": f.linter_code or None,
    }


def summary_dict(result: ScanResult, root: Path) -> dict:
    by_code = Counter(f.code for f in result.findings)
    by_category = Counter(f.category for f in result.findings)
    return {
        "files": len(result.files),
        "analysed": result.analysed,
        "lines": result.lines,
        "findings": len(result.findings),
        "interprocedural": sum(1 for f in result.findings if f.via),
        "by_code": dict(sorted(by_code.items())),
        "by_category": dict(sorted(by_category.items())),
        "skipped": [{"path": display_path(root, s.path), "reason": s.reason} for s in result.skipped],
        "seconds": round(result.seconds, 3),
        "version": __version__,
    }


def to_json(result: ScanResult, root: Path) -> str:
    """One finding per line: readable, diffable, and written by json's C encoder (``indent`` would use
    the pure-Python one, a third of a warm scan's time on a million lines)."""
    findings = ",\n    ".join(json.dumps(finding_dict(f, root)) for f in result.findings)
    summary = json.dumps(summary_dict(result, root), indent=4).replace("\n", "\n  ")
    return ('{\n  "findings": [' + (f"\n    {findings}\n  " if findings else "") + '],\n'
            f'  "summary": {summary}\n}}')


def to_sarif(result: ScanResult, root: Path) -> str:
    used = sorted({f.code for f in result.findings} | set(CODES))
    rules = []
    for code in used:
        c = CODES[code]
        rules.append({
            "id": code,
            "name": c.category,
            "shortDescription": {"text": c.title},
            "fullDescription": {"text": c.why},
            "helpUri": f"{RULES_URL}#{code.lower()}",
            "help": {"text": f"{c.why}\nOffload: {c.offload}" + (f"\nNative: {c.native}" if c.native else "")},
            "properties": {"category": c.category, "linter_codes": list(c.linter_codes)},
        })
    results = []
    for f in result.findings:
        item = {
            "ruleId": f.code,
            "level": "warning" if f.confidence == "high" else "note",
            "message": {"text": f.message},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": display_path(root, f.path).replace(os.sep, "/")},
                "region": {"startLine": f.line, "startColumn": f.col + 1, "endLine": f.end_line,
                           "endColumn": f.end_col + 1}}}],
            "properties": {"call": f.call, "function": f.function, "confidence": f.confidence,
                           "evidence": f.evidence},
        }
        if f.via:
            item["relatedLocations"] = [
                {"id": i, "message": {"text": f"{h.function} calls {h.call}"},
                 "physicalLocation": {"artifactLocation": {"uri": display_path(root, h.path).replace(os.sep, "/")},
                                      "region": {"startLine": h.line}}}
                for i, h in enumerate(f.via)]
        results.append(item)
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "asgi-migrate", "version": __version__,
                                      "informationUri": RULES_URL, "rules": rules}},
                  "results": results}],
    }
    return json.dumps(doc, indent=2)


def _gh_escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def to_github(result: ScanResult, root: Path) -> str:
    lines = []
    for f in result.findings:
        path = display_path(root, f.path)
        lines.append(
            f"::warning file={_gh_escape(path, True)},line={f.line},col={f.col + 1},endLine={f.end_line},"
            f"endColumn={f.end_col + 1},title={_gh_escape(f.code + ' ' + f.category, True)}::{_gh_escape(f.message)}")
    for s in result.skipped:
        lines.append(f"::error file={_gh_escape(display_path(root, s.path), True)},title=asgi-migrate::"
                     f"{_gh_escape('not analysed: ' + s.reason)}")
    return "\n".join(lines)


def print_table(result: ScanResult, root: Path, console: Console) -> None:
    by_module: dict[str, list[Finding]] = {}
    for f in result.findings:
        by_module.setdefault(f.path, []).append(f)
    for path, findings in by_module.items():
        counts = Counter(f.category for f in findings)
        title = Text.assemble((display_path(root, path), "bold"), "  ",
                              (", ".join(f"{n} {c}" for c, n in sorted(counts.items())), "dim"))
        table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False, expand=False)
        table.add_column("line:col", justify="right", style="cyan", no_wrap=True)
        table.add_column("code", style="red", no_wrap=True)
        table.add_column("call")
        table.add_column("in", style="green")
        table.add_column("via", style="dim")
        for f in findings:
            call = f.call + "".join(f"().{m}" for m in f.chained)
            via = " -> ".join(f"{h.function.rpartition('.')[2]} ({display_path(root, h.path)}:{h.line})"
                              for h in f.via)
            code = f.code if f.confidence == "high" else f"{f.code}?"
            table.add_row(f"{f.line}:{f.col + 1}", code, call, f.function.rpartition(".")[2], via)
        console.print(table)
        console.print()
    totals = Counter(f.category for f in result.findings)
    summary = Table(title="Summary", title_justify="left", show_edge=False)
    summary.add_column("category")
    summary.add_column("code")
    summary.add_column("findings", justify="right")
    for category, n in sorted(totals.items(), key=lambda kv: -kv[1]):
        code = next(c.code for c in CODES.values() if c.category == category)
        summary.add_row(category, code, str(n))
    if totals:
        console.print(summary)
    interprocedural = sum(1 for f in result.findings if f.via)
    console.print(
        f"{len(result.findings)} finding(s) ({interprocedural} through sync helpers) in {len(by_module)} module(s); "
        f"{result.analysed} file(s), {result.lines} lines analysed in {result.seconds:.2f}s"
        + (f"; {len(result.skipped)} file(s) skipped" if result.skipped else ""))
    for s in result.skipped:
        console.print(f"[yellow]skipped[/yellow] {display_path(root, s.path)}: {s.reason}")

"""Where the migration stands: a fresh scan measured against the manifest.

Why re-scan: the record says what was done, the code says what is true now. A module's offload
state is measured (no open finding left, findings left for review aside); a module the record says
is migrated that has findings it did not have is a *regression*; native and verify states come from
the record (only the native and verify runs know them) unless a regression makes them stale.

Effective per-phase states: offload ``offloaded|pending|skipped``; native ``native|pending|skipped``
or ``n/a`` (nothing with a native replacement); verify ``verified|pending|failed|skipped``. A
module's level is the highest rung of ``pending < offloaded < native < verified`` it holds, or
``skipped``. Renderers: rich table, markdown (MIGRATION.md), JSON, self-contained HTML.
"""

from __future__ import annotations

import html
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .. import __version__
from ..codemods.analysis import Finding
from ..codemods.catalog import CODES
from .manifest import LEVELS, PHASES, Manifest, ModuleRecord, file_hash, finding_key

REQUIRE = {"offloaded": PHASES[:1], "native": PHASES[:2], "verified": PHASES}
_SATISFIED = {"offloaded", "native", "verified", "skipped", "n/a"}
FORMATS = ("table", "markdown", "json", "html")


@dataclass
class ModuleStatus:
    rel: str
    module: str
    tracked: bool  # in the manifest
    phases: dict[str, str]
    reasons: dict[str, str] = field(default_factory=dict)
    level: str = "pending"
    changed: bool = False  # content differs from the recorded hash: re-analysed
    missing: bool = False  # recorded, but the file is gone
    open: list[Finding] = field(default_factory=list)  # blocking now, not known to be left for review
    review: list[tuple[Finding, str]] = field(default_factory=list)  # blocking now, left for review
    regressions: list[Finding] = field(default_factory=list)
    fixed: dict[str, int] = field(default_factory=dict)
    suppressed: dict[str, int] = field(default_factory=dict)
    progress: dict[str, float | None] = field(default_factory=dict)
    native_todo: int = 0  # calls (offloaded or open) an async library can replace

    @property
    def package(self) -> str:
        return self.rel.rsplit("/", 1)[0] if "/" in self.rel else "."

    @property
    def regressed(self) -> bool:
        return bool(self.regressions)

    def meets(self, require: str) -> bool:
        return all(self.phases[p] in _SATISFIED for p in REQUIRE[require])

    def open_by_category(self) -> dict[str, int]:
        return dict(sorted(Counter(CODES[f.code].category for f in self.open).items()))


@dataclass
class Status:
    root: Path
    manifest: Path
    manifest_found: bool
    modules: list[ModuleStatus]
    clean: int  # scanned modules with nothing to migrate and no record
    unreadable: list[tuple[str, str]]  # files the scan could not analyse, with the reason
    timeline: list[dict]  # progress over time, replayed from the manifest history

    def phase_done(self, phase: str) -> int:
        return sum(1 for m in self.modules if not m.missing and m.phases[phase] in _SATISFIED)

    @property
    def present(self) -> list[ModuleStatus]:
        return [m for m in self.modules if not m.missing]

    def needing(self, phase: str) -> list[ModuleStatus]:
        return [m for m in self.present if m.phases[phase] not in _SATISFIED]


# ----- computing --------------------------------------------------------------------------------------

def _split_review(fresh: list[Finding], rec: ModuleRecord | None) -> tuple[list[Finding], list[tuple[Finding, str]]]:
    """Open findings now, minus those the record left for review (matched by code, call, function)."""
    pool = list(rec.review) if rec else []
    rest, review = [], []
    for f in sorted(fresh, key=lambda f: (f.line, f.col)):
        for i, item in enumerate(pool):
            if item.key == finding_key(f):
                review.append((f, item.reason))
                pool.pop(i)
                break
        else:
            rest.append(f)
    return rest, review


def _native_fixed(rec: ModuleRecord) -> int:
    return sum(sum(r.fixed.values()) for r in rec.history if r.phase == "native")


def module_status(rel: str, module: str, rec: ModuleRecord | None, fresh: list[Finding],
                  suppressed: list[Finding], current_hash: str | None) -> ModuleStatus:
    """One module's effective state: the record checked against what the scan sees now."""
    rest, review = _split_review(fresh, rec)
    recorded = rec.level() if rec else "pending"
    st = ModuleStatus(rel, module or (rec.module if rec else rel), rec is not None, {}, open=rest, review=review)
    st.missing = current_hash is None
    st.changed = rec is not None and current_hash is not None and current_hash != rec.hash
    st.fixed = dict(rec.findings["fixed"]) if rec else {}
    st.suppressed = dict(sorted(Counter(f.code for f in suppressed).items()))
    if recorded in LEVELS[1:] and rest:
        st.regressions = rest
    phases = rec.phases if rec else {}
    for p in PHASES:
        if p in phases and phases[p].reason:
            st.reasons[p] = phases[p].reason
    skipped = {p for p in PHASES if p in phases and phases[p].state == "skipped"}
    st.phases["offload"] = "skipped" if "offload" in skipped else ("pending" if rest else "offloaded")
    native_open = any("native" in f.fixes for f in [*rest, *(f for f, _ in review)])
    if "native" in skipped:
        st.phases["native"] = "skipped"
    elif native_open or (rec and phases["native"].state != "native" and rec.native_todo() > 0):
        st.phases["native"] = "pending"
    elif rec and phases["native"].state == "native":
        st.phases["native"] = "native"
    else:
        st.phases["native"] = "n/a"
    verify = phases["verify"].state if rec else "pending"
    st.phases["verify"] = "pending" if verify == "verified" and (st.regressed or rest) else verify
    if st.phases["offload"] == "skipped":
        st.level = "skipped"
    elif st.phases["offload"] == "pending":
        st.level = "pending"
    elif st.phases["verify"] == "verified" and st.phases["native"] in ("native", "n/a", "skipped"):
        st.level = "verified"
    elif st.phases["native"] == "native":
        st.level = "native"
    else:
        st.level = "offloaded"
    fixed = sum(st.fixed.values())
    left = len(rest) + len(review)
    st.progress["offload"] = (1.0 if st.phases["offload"] == "offloaded" and not review else
                              fixed / (fixed + left) if fixed + left else 1.0)
    if st.phases["native"] in ("n/a", "skipped"):
        st.progress["native"] = None
    elif st.phases["native"] == "native":
        st.progress["native"] = 1.0
    else:
        done = _native_fixed(rec) if rec else 0
        todo = (rec.native_todo() if rec else 0) + sum(1 for f in rest if "native" in f.fixes)
        st.native_todo = todo
        st.progress["native"] = done / (done + todo) if done + todo else 0.0
    st.progress["verify"] = None if st.phases["verify"] == "skipped" else float(st.phases["verify"] == "verified")
    return st


def timeline(manifest: Manifest) -> list[dict]:
    """Modules at or above each level after every recorded run, in time order."""
    events = sorted((run.at, rel, run.state) for rel, rec in manifest.modules.items() for run in rec.history)
    levels: dict[str, str] = {}
    points: list[dict] = []
    for at, rel, state in events:
        levels[rel] = state
        point = {"at": at, "tracked": len(levels)}
        for level in LEVELS[1:]:
            rank = LEVELS.index(level)
            point[level] = sum(1 for s in levels.values()
                               if s == "skipped" or (s in LEVELS and LEVELS.index(s) >= rank))
        if points and points[-1]["at"] == at:
            points[-1] = point
        else:
            points.append(point)
    return points


def compute(root: Path, paths: list[Path] | None = None, config=None, jobs: int | None = None,
            use_cache: bool = True) -> Status:
    """Scan ``paths`` (default: the whole project) and measure every module against the manifest."""
    from .config import load_config
    from .engine import scan

    config = config or load_config(root)
    manifest = Manifest.load(root, missing_ok=True)
    paths = paths or [root]
    result = scan(paths, config, jobs=jobs, use_cache=use_cache)
    open_by: dict[str, list[Finding]] = {}
    for f in result.findings:
        open_by.setdefault(f.path, []).append(f)
    suppressed_by: dict[str, list[Finding]] = {}
    for f in (result.analysis.suppressed if result.analysis else []):
        suppressed_by.setdefault(f.path, []).append(f)
    modules: list[ModuleStatus] = []
    clean = 0
    seen = set()
    for sf in result.files:
        seen.add(sf.rel)
        rec = manifest.modules.get(sf.rel)
        if rec is None and not open_by.get(sf.rel) and not suppressed_by.get(sf.rel):
            clean += 1
            continue
        try:
            h = file_hash(sf.path.read_bytes())
        except OSError:
            continue
        modules.append(module_status(sf.rel, sf.module, rec, open_by.get(sf.rel, []),
                                     suppressed_by.get(sf.rel, []), h))
    scanned = [p.resolve() for p in paths]
    for rel, rec in manifest.modules.items():
        if rel in seen:
            continue
        path = (root / rel).resolve()
        if path.exists() or not any(path == p or p in path.parents for p in scanned):
            continue  # excluded from this scan, or outside the paths given
        modules.append(module_status(rel, rec.module, rec, [], [], None))
    modules.sort(key=lambda m: m.rel)
    unreadable = [(s.path, s.reason) for s in result.skipped]
    return Status(root, manifest.path, manifest.exists(), modules, clean, unreadable, timeline(manifest))


def check(status: Status, require: str | None = None) -> list[str]:
    """What makes ``status --check`` fail: regressions, modules below ``require``, unreadable files."""
    problems = []
    for m in status.present:
        for f in m.regressions:
            problems.append(f"{m.rel}:{f.line}: regression: {f.code} {f.call} in {f.function} "
                            "(module recorded as migrated)")
        if require and not m.meets(require):
            below = [p for p in REQUIRE[require] if m.phases[p] not in _SATISFIED]
            problems.append(f"{m.rel}: below {require}: {', '.join(f'{p} {m.phases[p]}' for p in below)}")
    for path, reason in status.unreadable:
        problems.append(f"{path}: cannot be analysed: {reason}")
    return problems


# ----- shared wording ---------------------------------------------------------------------------------

def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items())


def _phase_summary(status: Status, phase: str) -> tuple[str, int, int]:
    total = len(status.present)
    done = status.phase_done(phase)
    return ("done" if done == total else "pending"), done, total


def continue_commands(status: Status) -> list[str]:
    """The exact commands that take the migration one step further, run from the project root."""
    cmds = []
    offload = [m.rel for m in status.needing("offload")]
    native = [m.rel for m in status.needing("native") if m.phases["native"] == "pending"]
    if offload:
        cmds.append("asgi-migrate offload " + " ".join(offload) + " --write")
    if native:  # project-wide: making a helper async changes its callers in other modules too
        cmds.append("asgi-migrate native . --write")
    if any(m.phases["verify"] in ("pending", "failed") for m in status.present):
        cmds.append("asgi-migrate verify -- python -m pytest -q")
    if not status.manifest_found:
        cmds.insert(0, "asgi-migrate init")
    cmds.append("asgi-migrate status --format markdown -o MIGRATION.md")
    return cmds


# ----- table ------------------------------------------------------------------------------------------

def _bar(fraction: float | None, width: int = 10, bad: bool = False) -> Text:
    if fraction is None:
        return Text("-".center(width + 5), style="dim")
    n = round(fraction * width)
    style = "red" if bad else ("green" if fraction >= 1 else "yellow")
    t = Text("█" * n, style=style)
    t.append("░" * (width - n), style="dim")
    t.append(f" {round(fraction * 100):3d}%")
    return t


def print_table(status: Status, console: Console) -> None:
    """One row per package (bars: share of its modules done) and per module, regressions in red."""
    table = Table(title=f"asgi-migrate status: {status.root.name}", title_justify="left", show_lines=False)
    for col in ("module", "state", *PHASES):
        table.add_column(col)
    for col in ("open", "review", "fixed", "suppr."):
        table.add_column(col, justify="right")
    table.add_column("open by category")
    packages: dict[str, list[ModuleStatus]] = {}
    for m in status.modules:
        packages.setdefault(m.package, []).append(m)
    for pkg, mods in sorted(packages.items()):
        present = [m for m in mods if not m.missing]
        if len(packages) > 1 and present:
            bars = [_bar(sum(m.phases[p] in _SATISFIED for m in present) / len(present)) for p in PHASES]
            count = Text(f"{len(present)} module{'s' if len(present) != 1 else ''}", style="bold")
            table.add_row(Text(f"{pkg}/", style="bold"), count, *bars,
                          *(str(n) for n in (sum(len(m.open) for m in present), sum(len(m.review) for m in present),
                                             sum(sum(m.fixed.values()) for m in present),
                                             sum(sum(m.suppressed.values()) for m in present))), "")
        for m in mods:
            name = Text(("  " if len(packages) > 1 else "") + m.rel.rsplit("/", 1)[-1])
            if m.missing:
                table.add_row(name, Text("removed", style="dim"), *[""] * 8)
                continue
            state = Text("REGRESSED", style="bold red") if m.regressed else Text(
                m.level, style={"pending": "yellow", "skipped": "dim"}.get(m.level, "green"))
            if m.changed:
                state.append(" *", style="dim")
            table.add_row(name, state, *(_bar(m.progress[p], bad=m.regressed) for p in PHASES),
                          Text(str(len(m.open)), style="red" if m.regressed else ""), str(len(m.review)),
                          str(sum(m.fixed.values())), str(sum(m.suppressed.values())),
                          _counts_text(m.open_by_category()))
    console.print(table)
    totals = [f"{p} {status.phase_done(p)}/{len(status.present)}" for p in PHASES]
    regressed = [m for m in status.present if m.regressed]
    n = len(status.present)
    line = Text(f"total: {n} module{'s' if n != 1 else ''} in migration ({status.clean} clean); " + ", ".join(totals)
                + f"; open {sum(len(m.open) for m in status.present)}, review "
                f"{sum(len(m.review) for m in status.present)}, fixed "
                f"{sum(sum(m.fixed.values()) for m in status.present)}")
    if regressed:
        line.append(f"; {len(regressed)} regressed", style="bold red")
    console.print(line)
    for m in regressed:
        for f in m.regressions:
            console.print(Text(f"  regression {m.rel}:{f.line} {f.code} {f.call} in {f.function}", style="red"))
    if any(m.changed for m in status.present):
        console.print(Text("  * changed since recorded: re-analysed", style="dim"))
    for path, reason in status.unreadable:
        console.print(Text(f"  cannot analyse {path}: {reason}", style="yellow"))
    if not status.manifest_found:
        console.print(Text(f"  no manifest ({status.manifest.name}): run `asgi-migrate init` to start recording",
                           style="yellow"))


# ----- markdown ---------------------------------------------------------------------------------------

def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(status: Status) -> str:
    """MIGRATION.md: phases done/pending, who still needs what, review list, the commands to go on."""
    present = status.present
    out = ["# Migration status", "",
           ("<!-- generated by `asgi-migrate status --format markdown`: edit the code or the manifest, "
           "not this file -->"), ""]
    summaries = {p: _phase_summary(status, p) for p in PHASES}
    phrase = ", ".join(f"{p} **{s}**" + (f" ({t - d} module{'s' if t - d != 1 else ''} to go)" if s != "done" else "")
                       for p, (s, d, t) in summaries.items())
    out += [(f"`{status.root.name}`: {len(present)} module{'s' if len(present) != 1 else ''} in migration, "
            f"{status.clean} clean. {phrase}."), ""]
    out += ["| phase | status | modules done | still to do |", "|---|---|---|---|"]
    for p, (s, d, t) in summaries.items():
        out.append(f"| {p} | {s} | {d}/{t} | {t - d or ''} |")
    out.append("")
    regressed = [m for m in present if m.regressed]
    if regressed:
        out += ["## Regressions", "", "Modules recorded as migrated that block the event loop again:", ""]
        for m in regressed:
            for f in m.regressions:
                out.append(f"- `{m.rel}:{f.line}` {f.code} `{f.call}` in `{f.function}`")
        out.append("")
    for p in PHASES:
        s, d, t = summaries[p]
        out += [f"## {p.capitalize()}: {s}", ""]
        need = status.needing(p)
        if not need:
            out += [f"Done in every module ({t})." if t else "Nothing to do.", ""]
            continue
        extra = " calls to convert |" if p == "native" else ""
        out += [f"Modules still needing {p}:", "", f"| module | state | open findings |{extra}",
                "|---|---|---|" + ("---|" if extra else "")]
        for m in need:
            counts = _counts_text(m.open_by_category())
            state = m.phases[p] + (f" ({_md(m.reasons[p])})" if p in m.reasons and m.phases[p] == "failed" else "")
            out.append(f"| `{m.rel}` | {state} | {len(m.open)}{f' ({counts})' if counts else ''} |"
                       + (f" {m.native_todo} |" if extra else ""))
        out.append("")
    review = [(m, f, why) for m in present for f, why in m.review]
    out += ["## Left for review", ""]
    if review:
        out += ["| where | code | call | reason |", "|---|---|---|---|"]
        out += [f"| `{m.rel}:{f.line}` | {f.code} | `{_md(f.call)}` | {_md(why)} |" for m, f, why in review]
    else:
        out.append("Nothing.")
    out.append("")
    skipped = [(m, p) for m in present for p in PHASES if m.phases[p] == "skipped"]
    if skipped:
        out += ["## Skipped", ""]
        out += [f"- `{m.rel}`: {p} skipped: {m.reasons.get(p, '')}" for m, p in skipped]
        out.append("")
    if status.unreadable:
        out += ["## Not analysed", ""] + [f"- `{p}`: {r}" for p, r in status.unreadable] + [""]
    out += ["## Next steps", "", "From the project root:", "", "```sh", *continue_commands(status), "```", ""]
    return "\n".join(out)


# ----- json -------------------------------------------------------------------------------------------

def _finding(f: Finding, **extra) -> dict:
    return {"line": f.line, "code": f.code, "category": f.category, "call": f.call, "function": f.function, **extra}


def to_dict(status: Status) -> dict:
    modules = []
    for m in status.modules:
        modules.append({
            "path": m.rel, "module": m.module, "package": m.package, "level": m.level, "tracked": m.tracked,
            "changed": m.changed, "missing": m.missing, "regressed": m.regressed,
            "phases": {p: {"state": m.phases[p], "progress": m.progress.get(p),
                           **({"reason": m.reasons[p]} if p in m.reasons else {})} for p in PHASES},
            "findings": {"open": dict(sorted(Counter(f.code for f in m.open).items())),
                         "review": dict(sorted(Counter(f.code for f, _ in m.review).items())),
                         "fixed": m.fixed, "suppressed": m.suppressed},
            "native_todo": m.native_todo,
            "open": [_finding(f) for f in m.open],
            "review": [_finding(f, reason=why) for f, why in m.review],
            "regressions": [_finding(f) for f in m.regressions],
        })
    present = status.present
    return {
        "version": __version__,
        "manifest": status.manifest.name if status.manifest_found else None,
        "modules": modules,
        "totals": {
            "modules": len(present), "clean": status.clean,
            "phases": {p: {"done": status.phase_done(p), "pending": len(present) - status.phase_done(p)}
                       for p in PHASES},
            "levels": dict(sorted(Counter(m.level for m in present).items())),
            "open": sum(len(m.open) for m in present), "review": sum(len(m.review) for m in present),
            "fixed": sum(sum(m.fixed.values()) for m in present),
            "suppressed": sum(sum(m.suppressed.values()) for m in present),
            "regressions": sum(len(m.regressions) for m in present),
        },
        "timeline": status.timeline,
        "unreadable": [{"path": p, "reason": r} for p, r in status.unreadable],
        "next": continue_commands(status),
    }


def to_json(status: Status) -> str:
    return json.dumps(to_dict(status), indent=2, sort_keys=True)


# ----- html -------------------------------------------------------------------------------------------

_COLORS = {"tracked": "#9ca3af", "offloaded": "#2563eb", "native": "#7c3aed", "verified": "#16a34a"}


def progress_svg(points: list[dict], width: int = 720, height: int = 260) -> str:
    """Inline SVG line chart: modules at or above each level after every recorded run."""
    left, right, top, bottom = 44, 120, 16, 36
    if not points:
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="60" role="img">'
                '<text x="10" y="35" font-size="13">No history yet: run a phase with --write.</text></svg>')
    ymax = max(1, max(p["tracked"] for p in points))
    n = len(points)
    plot_w, plot_h = width - left - right, height - top - bottom

    def xy(i: int, v: int) -> tuple[float, float]:
        x = left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)
        return round(x, 1), round(top + plot_h - plot_h * v / ymax, 1)

    parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="migration progress over time" font-family="sans-serif" font-size="11">')]
    for k in range(0, ymax + 1, max(1, ymax // 5)):
        _, y = xy(0, k)
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y}" y2="{y}" stroke="#e5e7eb"/>'
                     f'<text x="{left - 6}" y="{y + 4}" text-anchor="end">{k}</text>')
    for j, series in enumerate(("tracked", "offloaded", "native", "verified")):
        coords = " ".join(f"{x},{y}" for x, y in (xy(i, p[series]) for i, p in enumerate(points)))
        dash = ' stroke-dasharray="4 3"' if series == "tracked" else ""
        parts.append(f'<polyline fill="none" stroke="{_COLORS[series]}" stroke-width="2"{dash} points="{coords}">'
                     f'<title>{series}</title></polyline>')
        for i, p in enumerate(points):
            x, y = xy(i, p[series])
            parts.append(f'<circle cx="{x}" cy="{y}" r="2.5" fill="{_COLORS[series]}">'
                         f'<title>{html.escape(p["at"])}: {p[series]} {series}</title></circle>')
        ly = top + 14 + j * 18
        parts.append(f'<rect x="{left + plot_w + 14}" y="{ly - 9}" width="12" height="3" fill="{_COLORS[series]}"/>'
                     f'<text x="{left + plot_w + 32}" y="{ly - 4}">{series}</text>')
    for i in sorted({0, n - 1}):
        x, _ = xy(i, 0)
        parts.append(f'<text x="{x}" y="{height - 12}" text-anchor="middle">{html.escape(points[i]["at"][:10])}</text>')
    parts.append("</svg>")
    return "".join(parts)


_CSS = """body{font-family:system-ui,sans-serif;margin:2rem;color:#111}table{border-collapse:collapse}
td,th{padding:.25rem .6rem;border-bottom:1px solid #e5e7eb;text-align:left}.bar{display:inline-block;width:80px;
height:8px;background:#e5e7eb;border-radius:4px;overflow:hidden;vertical-align:middle}.bar i{display:block;
height:100%;background:#16a34a}.regressed{color:#b91c1c;font-weight:bold}.num{text-align:right}code{font-size:.95em}"""


def _html_bar(fraction: float | None) -> str:
    if fraction is None:
        return "&ndash;"
    return f'<span class="bar"><i style="width:{round(fraction * 100)}%"></i></span> {round(fraction * 100)}%'


def to_html(status: Status) -> str:
    """One self-contained page: totals, the progress chart over time, modules, review, next steps."""
    e = html.escape
    present = status.present
    points = list(status.timeline)
    if present:
        points.append({"at": "now", "tracked": len(present), **{
            lvl: sum(1 for m in present if m.meets(req)) for lvl, req in
            (("offloaded", "offloaded"), ("native", "native"), ("verified", "verified"))}})
    rows = []
    for m in status.modules:
        if m.missing:
            continue
        state = '<span class="regressed">REGRESSED</span>' if m.regressed else e(m.level)
        rows.append(f"<tr><td><code>{e(m.rel)}</code></td><td>{state}</td>"
                    + "".join(f"<td>{_html_bar(m.progress[p])} {e(m.phases[p])}</td>" for p in PHASES)
                    + f'<td class="num">{len(m.open)}</td><td class="num">{len(m.review)}</td>'
                    f'<td class="num">{sum(m.fixed.values())}</td>'
                    f'<td>{e(_counts_text(m.open_by_category()))}</td></tr>')
    review = "".join(f"<li><code>{e(m.rel)}:{f.line}</code> {e(f.code)} <code>{e(f.call)}</code>: {e(why)}</li>"
                     for m in present for f, why in m.review) or "<li>Nothing.</li>"
    regressions = "".join(f'<li class="regressed"><code>{e(m.rel)}:{f.line}</code> {e(f.code)} <code>{e(f.call)}</code>'
                          f"</li>" for m in present for f in m.regressions)
    totals = " &middot; ".join(f"{p}: {status.phase_done(p)}/{len(present)}" for p in PHASES)
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Migration status: {e(status.root.name)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Migration status: {e(status.root.name)}</h1>",
        f"<p>{len(present)} modules in migration, {status.clean} clean &middot; {totals}</p>",
        "<h2>Progress over time</h2>", progress_svg(points),
        *(["<h2>Regressions</h2>", f"<ul>{regressions}</ul>"] if regressions else []),
        "<h2>Modules</h2>", "<table><tr><th>module</th><th>state</th>"
        + "".join(f"<th>{p}</th>" for p in PHASES)
        + "<th>open</th><th>review</th><th>fixed</th><th>open by category</th></tr>", *rows, "</table>",
        "<h2>Left for review</h2>", f"<ul>{review}</ul>",
        "<h2>Next steps</h2>", "<pre>" + e("\n".join(continue_commands(status))) + "</pre>",
        f"<footer><small>asgi-migrate {e(__version__)}</small></footer>", "</body></html>", ""])


# ----- entry point for tests and the example ----------------------------------------------------------

def render(status: Status, fmt: str = "markdown", width: int = 160) -> str:
    if fmt == "table":
        console = Console(record=True, width=width, file=io.StringIO(), color_system=None)
        print_table(status, console)
        return console.export_text()
    return {"markdown": to_markdown, "json": to_json, "html": to_html}[fmt](status)


def render_status(root: Path, fmt: str = "markdown", **kwargs) -> str:
    """Status of the project at ``root`` in one format, e.g. to check examples/chatapp's MIGRATION.md."""
    return render(compute(root, **kwargs), fmt)

"""Helpers for the labelled scan cases under golden/scan/.

Each case is a folder holding a small project. A line that must be reported ends with
``# expect: CODE`` (several codes separated by commas); ``# expect: CODE via=a,b`` also checks the
chain (the short names of the functions the call goes through, in order). Every other line must
produce no finding: the false positives sit next to the true ones, usually labelled ``# ok: why``.
"""

from __future__ import annotations

import re
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
_EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>[A-Z0-9, ]+?)(?:\s+via=(?P<via>[\w.,<>]+))?\s*(?:#.*)?$")


def expected(case: Path) -> tuple[set[tuple[str, int, str]], dict[tuple[str, int, str], list[str]]]:
    found: set[tuple[str, int, str]] = set()
    vias: dict[tuple[str, int, str], list[str]] = {}
    for path in sorted(case.rglob("*.py")):
        rel = path.relative_to(case).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            m = _EXPECT.search(line)
            if not m:
                continue
            for code in (c.strip() for c in m.group("codes").split(",")):
                if code:
                    key = (rel, number, code)
                    found.add(key)
                    if m.group("via"):
                        vias[key] = m.group("via").split(",")
    return found, vias


def cases(kind: str = "scan") -> list[Path]:
    return sorted(p for p in (GOLDEN / kind).iterdir() if p.is_dir())

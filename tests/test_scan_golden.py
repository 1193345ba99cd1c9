"""The scanner reports exactly the labelled findings of every golden/scan case."""

from __future__ import annotations

from pathlib import Path

import pytest
from asgi_migrate.cli.config import DEFAULT_EXCLUDE, Config
from asgi_migrate.cli.engine import scan
from scan_golden import cases, expected


def _short(function: str) -> str:
    parts = function.replace(".<locals>", "").split(".")
    return ".".join(parts[-2:]) if len(parts) > 1 and parts[-2][:1].isupper() else parts[-1]


@pytest.mark.parametrize("case", cases("scan"), ids=lambda p: p.name)
def test_golden_scan_case(case: Path) -> None:
    config = Config(root=case, exclude=[p for p in DEFAULT_EXCLUDE if p not in ("tests", "test")])
    result = scan([case], config, jobs=1, use_cache=False, include_uncertain=case.name.startswith("uncertain"))
    assert not result.skipped, result.skipped
    got = {(f.path, f.line, f.code) for f in result.findings}
    want, vias = expected(case)
    assert sorted(got - want) == [], "unexpected findings (false positives)"
    assert sorted(want - got) == [], "missing findings (false negatives)"
    for f in result.findings:
        key = (f.path, f.line, f.code)
        if key in vias:
            assert [_short(h.function) for h in f.via] == vias[key], f.message

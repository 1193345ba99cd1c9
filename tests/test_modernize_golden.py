"""golden/modernize_executor: legacy run_in_executor / get_event_loop in coroutines, modernised."""

from __future__ import annotations

from pathlib import Path

import pytest
from asgi_migrate.codemods.analysis import analyze
from asgi_migrate.codemods.modernize_executor import modernize_source
from asgi_migrate.codemods.summary import summarize
from scan_golden import cases

CASES = cases("modernize_executor")


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_exact_output(case: Path) -> None:
    before = (case / "before.py").read_text()
    assert modernize_source(before).code == (case / "after.py").read_text()


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_idempotent_compiles_and_no_get_event_loop_left_in_coroutines(case: Path) -> None:
    after = (case / "after.py").read_text()
    compile(after, str(case / "after.py"), "exec", dont_inherit=True)
    assert modernize_source(after).code == after
    assert [f for f in analyze([summarize(after, "m")]) if f.code == "AM280"] == []


def test_cases_exist() -> None:
    assert len(CASES) >= 8

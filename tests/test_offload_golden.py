"""Golden pairs for the offload rewrite: ``golden/offload/<case>/before.py`` -> ``after.py``.

Optional files in a case folder:

* ``review.txt``: one expected review-reason substring per line (each must match a review, and
  every review must match a line);
* ``findings.txt``: extra findings, one per line as ``LINE:COL-END_LINE:END_COL CODE CALL``, for
  places the scanner does not report today (lambdas, decorators, ...) but the rewrite must refuse.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from asgi_migrate.codemods.analysis import Finding, analyze
from asgi_migrate.codemods.offload import offload_source
from asgi_migrate.codemods.summary import summarize

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "offload"
CASES = sorted(p for p in GOLDEN.iterdir() if (p / "before.py").is_file())


def _scan(source: str) -> list[Finding]:
    return analyze([summarize(source, "app", "app.py")])


def _extra(case: Path) -> list[Finding]:
    path = case / "findings.txt"
    if not path.is_file():
        return []
    out = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        span, code, call = line.split()
        start, end = span.split("-")
        (l1, c1), (l2, c2) = (map(int, start.split(":")), map(int, end.split(":")))
        out.append(Finding("app.py", l1, c1, l2, c2, code, call, "app.handler", ""))
    return out


def _findings(case: Path, source: str) -> list[Finding]:
    return _scan(source) + _extra(case)


def _read(case: Path) -> tuple[str, str]:
    return (case / "before.py").read_text(), (case / "after.py").read_text()


def test_enough_cases() -> None:
    assert len(CASES) >= 25


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_rewrite_matches_after(case: Path) -> None:
    before, after = _read(case)
    findings = _findings(case, before)
    assert findings, "a golden case needs at least one finding"
    result = offload_source(before, findings)
    assert result.code == after
    # every finding is accounted for exactly once
    assert sorted(map(id, result.fixed + [r.finding for r in result.review])) == sorted(map(id, findings))


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_after_compiles(case: Path) -> None:
    _, after = _read(case)
    compile(after, str(case / "after.py"), "exec", dont_inherit=True)


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_idempotent(case: Path) -> None:
    before, after = _read(case)
    # extra findings carry before.py positions: they only still apply when nothing moved
    findings = _findings(case, after) if after == before else _scan(after)
    result = offload_source(after, findings)
    assert result.code == after
    assert result.fixed == []


@pytest.mark.parametrize("case", [c for c in CASES if (c / "review.txt").is_file()], ids=lambda p: p.name)
def test_review_reasons(case: Path) -> None:
    before, _ = _read(case)
    result = offload_source(before, _findings(case, before))
    expected = [s.strip() for s in (case / "review.txt").read_text().splitlines() if s.strip()]
    reasons = [r.reason for r in result.review]
    for want in expected:
        assert any(want in got for got in reasons), f"no review matching {want!r} in {reasons}"
    for got in reasons:
        assert any(want in got for want in expected), f"unexpected review {got!r}"


@pytest.mark.parametrize("case", [c for c in CASES if not (c / "review.txt").is_file()], ids=lambda p: p.name)
def test_no_reviews_without_review_txt(case: Path) -> None:
    before, _ = _read(case)
    result = offload_source(before, _findings(case, before))
    assert result.review == []


# ----- imports and safety edge cases -------------------------------------------------------------

def _offload(source: str) -> str:
    return offload_source(source, _scan(source)).code


def test_import_added_once_for_many_rewrites() -> None:
    src = "import os\n\n\nasync def h(p):\n    os.remove(p)\n    os.remove(p)\n"
    out = _offload(src)
    assert out.count("import asyncio") == 1
    assert out.startswith("import asyncio\nimport os\n")


def test_import_not_added_when_nothing_changes() -> None:
    src = "import os\n\n\nasync def h(p):\n    await asyncio.to_thread(os.remove, p)\n"
    assert _offload(src) == src


def test_asyncio_submodule_import_binds_asyncio() -> None:
    src = "import asyncio.subprocess\nimport os\n\n\nasync def h(p):\n    os.remove(p)\n"
    out = _offload(src)
    assert out.count("import asyncio") == 1
    assert "await asyncio.to_thread(os.remove, p)" in out


def test_from_import_to_thread_but_sleep_needs_module() -> None:
    # only `to_thread` is imported by name: `sleep` needs the module import, added once
    out = _offload("import os\nfrom asyncio import to_thread\nimport time\n\n\nasync def h(p):\n"
                   "    os.remove(p)\n    time.sleep(p)\n")
    assert "await to_thread(os.remove, p)" in out
    assert "await asyncio.sleep(p)" in out
    assert out.count("import asyncio\n") == 1 and "from asyncio import to_thread\n" in out


def test_import_inside_function_does_not_count() -> None:
    src = "import os\n\n\nasync def h(p):\n    import asyncio\n    os.remove(p)\n"
    out = _offload(src)
    assert out.startswith("import asyncio\nimport os\n")


def test_unparseable_and_stale_findings_are_reviewed() -> None:
    finding = Finding("app.py", 1, 0, 1, 5, "AM150", "time.sleep", "app.h", "")
    result = offload_source("def (:\n", [finding])
    assert result.code == "def (:\n" and "not parseable" in result.review[0].reason
    stale = offload_source("x = 1\n", [finding])
    assert stale.code == "x = 1\n" and "no call found" in stale.review[0].reason


def test_no_findings_is_identity() -> None:
    assert offload_source("x = 1\n", []).code == "x = 1\n"


def test_rewrite_that_does_not_compile_is_rolled_back(monkeypatch: pytest.MonkeyPatch) -> None:
    # pretend the placement check missed the lambda: `await` inside it must not reach the output
    from asgi_migrate.codemods import offload

    monkeypatch.setattr(offload, "refusal", lambda *args, **kwargs: None)
    src = ("import os\n\n\nasync def h(paths):\n    os.remove(paths[0])\n"
           "    return sorted(paths, key=lambda p: os.path.getmtime(p))\n")
    findings = _scan(src) + [Finding("app.py", 6, 39, 6, 58, "AM130", "os.path.getmtime", "app.h", "")]
    result = offload_source(src, findings)
    assert result.code == src and result.fixed == []
    assert [r.reason.split(":")[0] for r in result.review] == ["rewrite did not compile"] * 2


def test_absorbed_findings_count_as_fixed() -> None:
    src = "import os\nimport shutil\n\n\nasync def h(a, b):\n    shutil.copy(a, os.path.realpath(b))\n"
    findings = _scan(src)
    result = offload_source(src, findings)
    assert len(findings) == 2 and len(result.fixed) == 2 and result.review == []
    assert "await asyncio.to_thread(lambda: shutil.copy(a, os.path.realpath(b)))" in result.code


# ----- block extraction ---------------------------------------------------------------------------

def test_one_line_with_body_is_extracted() -> None:
    src = ("import os\n\n\nasync def f(p, ev):\n    await ev.x()\n"
           "    with open(p) as fh: data = fh.read()\n    return data\n")
    result = offload_source(src, _scan(src))
    assert result.review == [] and len(result.fixed) == 2
    assert "    data = await asyncio.to_thread(_f_sync, p)\n" in result.code


def test_output_read_in_a_later_iteration_is_passed_and_returned() -> None:
    src = ("import json\n\n\nasync def f(paths, ev):\n    data = None\n    for p in paths:\n"
           "        if data:\n            await ev.emit(data)\n        with open(p) as fh:\n"
           "            if p:\n                data = json.load(fh)\n")
    out = _offload(src)
    assert "        data = await asyncio.to_thread(_f_sync, p, data)\n" in out
    assert "def _f_sync(p, data):\n" in out
    assert out.rstrip().endswith("data = await asyncio.to_thread(_f_sync, p, data)")


def test_exception_after_output_assignment_inside_try_is_refused() -> None:
    src = ("import json\n\n\nasync def f(p, ev):\n    data = None\n    await ev.emit(1)\n    try:\n"
           "        with open(p) as fh:\n            data = json.load(fh)\n            validate(data)\n"
           "    except ValueError:\n        pass\n    return data\n")
    result = offload_source(src, _scan(src))
    assert result.code == src and result.fixed == []
    assert all("an exception in the block after assigning it" in r.reason for r in result.review)


def test_block_using_asyncio_stays_on_the_loop() -> None:
    src = ("import asyncio\nimport json\n\n\nasync def f(p):\n    with open(p) as fh:\n"
           "        data = json.load(fh)\n        asyncio.get_running_loop()\n    return data\n")
    result = offload_source(src, _scan(src))
    assert result.code == src
    assert all("must stay on the event loop" in r.reason for r in result.review)

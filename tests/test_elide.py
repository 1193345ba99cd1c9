"""Eliding untouched function bodies before libcst: positions kept, originals restored byte for byte,
and the rewrite identical to a rewrite of the whole file."""

from __future__ import annotations

from pathlib import Path

import pytest
from asgi_migrate.codemods.analysis import analyze
from asgi_migrate.codemods.elide import elide, split_lines
from asgi_migrate.codemods.offload import _offload, offload_source
from asgi_migrate.codemods.summary import summarize

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "offload"
CASES = sorted(p for p in GOLDEN.iterdir() if (p / "before.py").is_file())

UNRELATED = '''

def unrelated(items):
    """Sums things."""
    total = 0
    for i in items:
        total += i  # a comment the rewrite must keep
    return total


class Store:
    def size(self):
        n = 0
        n += 1
        n += 2
        return n
'''


def test_positions_and_line_count_are_kept() -> None:
    src = "import os\n\n\nasync def h(p):\n    os.remove(p)\n" + UNRELATED
    e = elide(src, [(5, 5)])
    assert e is not None and e.lines_elided == 9
    assert len(split_lines(e.source)) == len(split_lines(src))
    assert split_lines(e.source)[:5] == split_lines(src)[:5]
    assert f'def unrelated(items):\n    """am-elided:{e.nonce}:9:13\n\n\n\n"""\n' in e.source
    assert f'    def size(self):\n        """am-elided:{e.nonce}:18:21\n\n\n"""\n' in e.source
    assert compile(e.source, "x", "exec")
    assert e.restore(e.source) == src


def test_crlf_and_missing_final_newline_restored() -> None:
    src = ("async def h(p):\n    open(p).read()\n" + UNRELATED).replace("\n", "\r\n").rstrip("\r\n")
    e = elide(src, [(2, 2)])
    assert e is not None
    assert e.restore(e.source) == src


def test_tampered_marker_gives_none() -> None:
    src = "async def h(p):\n    open(p).read()\n" + UNRELATED
    e = elide(src, [(2, 2)])
    assert e is not None
    lines = split_lines(e.source)
    marker = next(i for i, line in enumerate(lines) if "am-elided" in line)
    moved = lines[:marker] + lines[marker + 1:] + [lines[marker]]
    assert e.restore("".join(moved)) is None
    assert e.restore("".join(lines[:marker] + lines[marker + 1:])) is None  # a marker lost
    assert e.restore("".join(lines[:marker + 1] + lines[marker + 2:])) is None  # a line of its region lost
    assert e.restore(e.source.replace('    """am-elided', '  """am-elided', 1)) is None  # re-indented
    first = e.source.index('"""am-elided')
    assert e.restore(e.source[:first] + "x = " + e.source[first:]) is None  # changed around the marker


def test_functions_with_findings_keep_their_bodies() -> None:
    src = "async def h(p):\n    x = 1\n    y = 2\n    z = 3\n    open(p).read()\n" + UNRELATED
    e = elide(src, [(5, 5)])
    assert e is not None and "    open(p).read()\n" in e.source and "    x = 1\n" in e.source


def test_functions_under_module_level_if_and_try_are_elided() -> None:
    src = ("import os\n\nif os.name:\n" + UNRELATED.replace("\n", "\n    ").rstrip(" ") +
           "\ntry:\n    import json\nexcept ImportError:\n    def load(p):\n        a = 1\n        b = 2\n"
           "        c = 3\n        return a + b\n\n\nasync def h(p):\n    os.remove(p)\n")
    compile(src, "x", "exec")
    e = elide(src, [(len(split_lines(src)), len(split_lines(src)))])
    assert e is not None and e.source.count('"""am-elided') == 3
    assert e.restore(e.source) == src


def test_keep_tokens_global_and_one_line_bodies_stay_whole() -> None:
    src = ("async def h(p):\n    open(p).read()\n\n\ndef g():\n    global X\n    X = 1\n    X += 1\n    X += 2\n\n\n"
           "def k():\n    conn = sqlite3.connect('x')\n    a = 1\n    b = 2\n    return conn\n\n\n"
           "def one(): return 1\n")
    assert elide(src, [(2, 2)], keep=("sqlite3",)) is None


def test_unparseable_source_is_not_elided() -> None:
    assert elide("def (:\n", [(1, 1)]) is None


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_offload_with_elision_equals_whole_file(case: Path) -> None:
    """Every golden input, with unrelated functions appended: eliding them changes nothing in the output."""
    before = (case / "before.py").read_text() + UNRELATED
    findings = analyze([summarize(before, "app", "app.py")])
    if not findings:
        pytest.skip("case relies on extra findings")
    assert elide(before, [(f.line, f.end_line) for f in findings]) is not None
    whole = _offload(before, findings)
    reduced = offload_source(before, findings)
    assert reduced.code == whole.code
    assert [f.line for f in reduced.fixed] == [f.line for f in whole.fixed]
    assert [(r.finding.line, r.reason) for r in reduced.review] == [(r.finding.line, r.reason) for r in whole.review]
    assert reduced.code.endswith(UNRELATED)

"""Property tests: for generated programs wrapped in ``async def``, every codemod's output compiles, a second
pass changes nothing, and a program without findings is left byte for byte as it was.

Two generators: hypothesmith's grammar-based programs (arbitrary syntax, almost never a finding: the
"unchanged" property), and a template strategy mixing blocking calls (sleep, requests, open/read, subprocess,
os.path, json.load, sqlite3, comprehensions, lambdas, nested defs, already-offloaded calls) with plain
statements and nested blocks (if/for/while/try/with) in an async function or method (the "compiles" and
"idempotent" properties, with findings in nearly every example).

Bounded for the default test run: ``ASGI_MIGRATE_PROPERTY_EXAMPLES`` examples per property (default 30, no
deadline); ``benchmarks/robustness.py --properties N`` runs more. Needs ``hypothesmith`` for the first property
(skipped without it).
"""

from __future__ import annotations

import functools
import os
import tempfile
import textwrap
from pathlib import Path

import pytest
from asgi_migrate.cli.app import _offload_rewriter, app
from asgi_migrate.cli.config import load_config
from asgi_migrate.cli.engine import scan
from asgi_migrate.cli.files import decode
from asgi_migrate.cli.rewrite import plan_file
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("ASGI_MIGRATE_PROPERTY_EXAMPLES", "30"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=EXAMPLES <= 30,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                           HealthCheck.data_too_large])
NATIVE = any(c.name == "native" for c in app.registered_commands)


# ----- running the phases through the API the CLI uses ------------------------------------------------------------

def _scan(root: Path):
    return scan([root], load_config(root), jobs=1, use_cache=False)


def offload_once(root: Path, rel: str) -> tuple[str, str, int]:
    """(old text, new text, findings) of an offload dry run of ``rel``."""
    result = _scan(root)
    findings = [f for f in list(result.findings) + list(result.analysis.hazards) if f.path == rel]
    rewriter = functools.partial(_offload_rewriter, facts=result.analysis.facts())
    change = plan_file(root / rel, rel, findings, rewriter)
    assert not result.skipped, result.skipped
    return change.old, (change.new if change.changed else change.old), len(findings)


def native_once(root: Path, rel: str) -> tuple[str, str, int]:
    from asgi_migrate.cli.native_phase import native_changes
    from asgi_migrate.codemods.native.base import NativeConfig
    from asgi_migrate.codemods.native.plan import build_plan
    from asgi_migrate.codemods.native.targets import select_targets

    result = _scan(root)
    targets = select_targets([])
    sources = {f.rel: decode(f.path.read_bytes()).text for f in result.files if f.rel in result.summaries}
    plan = build_plan(result.analysis, targets, sources)
    old = sources[rel]
    for change in native_changes(plan, root, targets, NativeConfig()):
        if change.rel == rel:
            return old, (change.new if change.changed else old), len(plan.files[rel].convert)
    return old, old, 0


def check_phase(source: str, once) -> int:
    """The three properties for one phase; returns the number of findings it was given."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "pyproject.toml").write_text("[project]\nname = 'gen'\n")
        (root / "gen.py").write_text(source, encoding="utf-8")
        old, new, findings = once(root, "gen.py")
        assert old == source
        if findings == 0:
            assert new == source, "changed a program without findings"
        if new == source:
            return findings
        compile(new, "gen.py", "exec", dont_inherit=True)
        (root / "gen.py").write_text(new, encoding="utf-8")
        _, again, _ = once(root, "gen.py")
        assert again == new, "second pass changed the output:\n" + again
    return findings


def check_all(source: str) -> None:
    check_phase(source, offload_once)
    if NATIVE:
        check_phase(source, native_once)


# ----- hypothesmith: arbitrary programs wrapped in async def ------------------------------------------------------

PRELUDE = "import json\nimport os\nimport subprocess\nimport time\n\nimport requests\n\n\n"


def wrap(program: str) -> str:
    body = textwrap.indent(program, "    ") if program.strip() else "    pass\n"
    return PRELUDE + "async def generated(u, urls):\n" + body + ("" if body.endswith("\n") else "\n")


def _compiles(source: str) -> bool:
    try:
        compile(source, "gen.py", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


try:
    import hypothesmith
except ImportError:  # pragma: no cover - the lead's note: `pip install hypothesmith`
    hypothesmith = None


@pytest.mark.skipif(hypothesmith is None, reason="hypothesmith is not installed")
@SETTINGS
@given(program=st.deferred(lambda: hypothesmith.from_grammar()))
def test_generated_programs_in_async_def(program: str) -> None:
    source = wrap(program)
    assume("\r" not in program and "\f" not in program and "\x0c" not in program and _compiles(source))
    check_all(source)


# ----- templates: blocking calls among plain statements -----------------------------------------------------------

BLOCKING = [
    "time.sleep({n})",
    "data = requests.get(u, timeout={n}).text",
    "resp = requests.post(u, json={{'k': {n}}})\nstatus = resp.status_code",
    "with open(u) as fh:\n    data = fh.read()",
    "payload = json.load(open(u))",
    "proc = subprocess.run(['true'], check=False)",
    "ok = os.path.exists(u)",
    "total += 1 if os.path.isfile(u) else 0",
    "for name in os.listdir(u):\n    total += len(name)",
    "conn = sqlite3.connect(u)\nrows = conn.execute('select 1').fetchall()",
    "items = [requests.get(x).text for x in urls]",
    "data = (await asyncio.to_thread(requests.get, u)).text",
    "late = lambda: time.sleep({n})",
    "def inner():\n    time.sleep({n})\n    return {n}\ninner()",
    "print(requests.get(u).json()['a'], time.sleep({n}))",
    "size = len(open(u).read()) + {n}",
    "helper_sleep({n})",
    "value = await helper_fetch(u)",
]
PLAIN = [
    "total = total + {n}",
    "data = str(total)",
    "await asyncio.sleep(0)",
    "urls = [x for x in urls if x]",
    "assert total >= 0",
    "pass",
    "# a comment {n}",
    "total += sum(i for i in range({n}))",
]
COMPOUND = [
    "if total > {n}:\n{a}\nelse:\n{b}",
    "for i in range({n}):\n{a}",
    "while total < 0:\n{a}\n    break",
    "try:\n{a}\nexcept (ValueError, OSError):\n{b}",
    "try:\n{a}\nfinally:\n{b}",
    "with contextlib.suppress(Exception):\n{a}",
    "async with lock:\n{a}",
]


def _fill(template: str, n: int) -> str:
    return template.replace("{n}", str(n)).replace("{{", "{").replace("}}", "}")


@st.composite
def statement(draw, depth: int = 0) -> str:
    n = draw(st.integers(1, 9))
    kind = draw(st.sampled_from(["blocking", "blocking", "plain", "compound"] if depth < 2 else ["blocking", "plain"]))
    if kind == "blocking":
        return _fill(draw(st.sampled_from(BLOCKING)), n)
    if kind == "plain":
        return _fill(draw(st.sampled_from(PLAIN)), n)
    a = textwrap.indent(draw(block(depth + 1)), "    ")
    b = textwrap.indent(draw(block(depth + 1)), "    ")
    return draw(st.sampled_from(COMPOUND)).replace("{n}", str(n)).replace("{a}", a).replace("{b}", b)


@st.composite
def block(draw, depth: int = 0) -> str:
    return "\n".join(draw(st.lists(statement(depth), min_size=1, max_size=4)))


@st.composite
def module(draw) -> str:
    imports = ["import contextlib", "import json", "import os", "import sqlite3", "import subprocess", "import time",
               "", "import requests"]
    asyncio_import = draw(st.sampled_from(["import asyncio", "", "from asyncio import to_thread, sleep, Lock"]))
    if asyncio_import.startswith("import"):
        imports.insert(0, asyncio_import)
    elif asyncio_import:
        imports.insert(7, asyncio_import)
    header = draw(st.sampled_from(["", '"""Generated."""\n', "from __future__ import annotations\n"]))
    body = textwrap.indent(draw(block()), "    ")
    generator = draw(st.booleans())
    tail = "    yield total\n" if generator else "    return total\n"
    setup = "    total = 0\n    data = None\n"
    if "asyncio" in asyncio_import.split(" ")[1:2] or asyncio_import.startswith("import"):
        setup += "    lock = asyncio.Lock()\n"
    elif asyncio_import:
        setup += "    lock = Lock()\n"
    else:
        body = body.replace("async with lock:", "if lock_free:").replace("await asyncio.sleep(0)", "pass") \
            .replace("(await asyncio.to_thread(requests.get, u)).text", "None")
    helpers = ("def helper_sleep(n):\n    time.sleep(n)\n\n\nasync def helper_fetch(u):\n    return u\n\n\n"
               "lock_free = True\n\n\n")
    method = draw(st.booleans())
    fn = "async def handler(u, urls):\n" + setup + body + "\n" + tail
    if method:
        fn = "class Service:\n" + textwrap.indent(fn.replace("(u, urls)", "(self, u, urls)"), "    ")
    return header + "\n".join(imports) + "\n\n\n" + helpers + fn


@SETTINGS
@given(source=module())
def test_blocking_templates_in_async_def(source: str) -> None:
    assume(_compiles(source))
    event(f"offload findings: {min(check_phase(source, offload_once), 3)}")
    if NATIVE:
        check_phase(source, native_once)


def test_template_programs_compile_and_have_findings() -> None:
    """The generator itself: its programs compile, and the blocking ones are found (guards the property)."""
    source = PRELUDE.replace("import json", "import asyncio\nimport json") + \
        "async def handler(u, urls):\n    total = 0\n    time.sleep(1)\n    return total\n"
    assert _compiles(source)
    assert check_phase(source, offload_once) == 1

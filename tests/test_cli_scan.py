"""`asgi-migrate scan` as a user runs it: formats, exit codes, configuration, bad input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from asgi_migrate.cli.app import app
from asgi_migrate.cli.config import DEFAULT_EXCLUDE, Config
from asgi_migrate.cli.engine import scan
from asgi_migrate.codemods.catalog import rule_pages_markdown
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()

SERVICE = """\
import time


class CompletionClient:
    def complete(self, prompt: str) -> str:
        time.sleep(0.5)
        return prompt


client = CompletionClient()
"""

MAIN = """\
from fastapi import FastAPI

from .llm import client

app = FastAPI()


@app.post("/reply")
async def reply(prompt: str) -> str:
    return client.complete(prompt)


@app.get("/stats")
def stats() -> dict:
    return {"reply": client.complete("x")}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    pkg = tmp_path / "svc"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "llm.py").write_text(SERVICE)
    (pkg / "main.py").write_text(MAIN)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'svc'\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_json_report_shape_and_positions(project: Path) -> None:
    result = run("scan", "svc", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    [f] = data["findings"]
    assert f["path"] == os.path.join("svc", "main.py")
    assert (f["line"], f["col"], f["end_line"], f["end_col"]) == (10, 12, 10, 35)
    assert f["code"] == "AM150" and f["call"] == "time.sleep"
    assert f["function"] == "svc.main.reply"
    assert f["via"] == [{"function": "svc.llm.CompletionClient.complete", "path": os.path.join("svc", "llm.py"),
                         "line": 6, "call": "time.sleep"}]
    assert f["confidence"] == "high" and f["fixes"] == ["offload", "native"]
    assert "reply -> CompletionClient.complete -> time.sleep" in f["message"]
    assert data["summary"]["findings"] == 1 and data["summary"]["by_category"] == {"sleep": 1}


def test_exit_codes(project: Path) -> None:
    assert run("scan", "svc").exit_code == 1
    assert run("scan", "svc", "--exit-zero").exit_code == 0
    assert run("scan", "svc/llm.py").exit_code == 0  # sync code only: nothing on the loop
    missing = run("scan", "nope")
    assert missing.exit_code == 2 and "nope: no such file or directory" in missing.stderr
    assert run("scan", "svc", "--select", "http").exit_code == 0
    assert run("scan", "svc", "--ignore", "AM150").exit_code == 0
    bad = run("scan", "svc", "--select", "AM999")
    assert bad.exit_code == 2 and "unknown code or category 'AM999'" in bad.stderr


def test_sarif_report(project: Path) -> None:
    result = run("scan", "svc", "--format", "sarif")
    doc = json.loads(result.stdout)
    assert doc["version"] == "2.1.0"
    run0 = doc["runs"][0]
    assert {r["id"] for r in run0["tool"]["driver"]["rules"]} >= {"AM150", "AM200"}
    [res] = run0["results"]
    assert res["ruleId"] == "AM150"
    region = res["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 10, "startColumn": 12, "endLine": 10, "endColumn": 35}
    assert res["relatedLocations"][0]["physicalLocation"]["region"] == {"startLine": 6}


def test_github_annotations(project: Path) -> None:
    result = run("scan", "svc", "--format", "github")
    [line] = result.stdout.strip().splitlines()
    assert line.startswith(f"::warning file={os.path.join('svc', 'main.py')},line=10,col=12,endLine=10,endColumn=35,"
                           "title=AM150 sleep::")


def test_table_report(project: Path) -> None:
    result = run("scan", "svc")
    assert "AM150" in result.stdout and "complete (svc/llm.py:6)" in result.stdout
    assert "1 finding(s) (1 through sync helpers) in 1 module(s)" in result.stdout


def test_configuration(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        "[project]\nname = 'svc'\n\n[tool.asgi-migrate]\n"
        "blocking-calls = { \"svc.legacy.fetch_*\" = \"svc.legacy.afetch\" }\n"
        "safe-calls = [\"svc.llm.CompletionClient.complete\"]\n")
    (project / "svc" / "legacy.py").write_text("def fetch_report():\n    return 1\n")
    (project / "svc" / "api.py").write_text(
        "from .legacy import fetch_report\n\n\nasync def report():\n    return fetch_report()\n")
    data = json.loads(run("scan", "svc", "--format", "json").stdout)
    assert [(f["path"], f["code"], f["call"]) for f in data["findings"]] == [
        (os.path.join("svc", "api.py"), "AM900", "svc.legacy.fetch_report")]


def test_per_module_ignore_and_excludes(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        "[tool.asgi-migrate]\nper-module = { \"svc/main.py\" = { ignore = [\"sleep\"] } }\n")
    tests = project / "svc" / "tests"
    tests.mkdir()
    (tests / "test_x.py").write_text("import time\n\nasync def test_x():\n    time.sleep(1)\n")
    data = json.loads(run("scan", ".", "--format", "json").stdout)
    assert data["findings"] == []
    assert data["summary"]["files"] == 3  # tests/ excluded by default


@pytest.mark.parametrize("table, message", [
    ("[tool.asgi-migrate]\nexclud = []\n", "unknown key 'exclud'"),
    ("[tool.asgi-migrate]\nsafe-calls = \"x\"\n", "safe-calls must be a list of strings"),
    ("[tool.asgi-migrate]\nper-module = { \"a\" = { ignore = [\"AM1\"] } }\n", "unknown code or category 'AM1'"),
    ("[tool.asgi-migrate\n", "invalid TOML"),
])
def test_invalid_configuration_is_one_line_exit_2(project: Path, table: str, message: str) -> None:
    (project / "pyproject.toml").write_text(table)
    result = run("scan", "svc")
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_bad_files_are_skipped_and_named(project: Path) -> None:
    (project / "svc" / "broken.py").write_text("async def f(:\n    pass\n")
    (project / "svc" / "latin.py").write_bytes(b"x = '\xe9'\n")  # not UTF-8, no coding cookie
    (project / "svc" / "cookie.py").write_bytes(
        b"# -*- coding: latin-1 -*-\nimport time\nasync def f():\n    s = '\xe9'; time.sleep(1)\n")
    (project / "svc" / "bom.py").write_bytes(b"\xef\xbb\xbfimport time\r\nasync def g():\r\n    time.sleep(1)\r\n")
    (project / "svc" / "empty.py").write_text("")
    result = run("scan", "svc", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    skipped = {s["path"]: s["reason"] for s in data["summary"]["skipped"]}
    assert skipped[os.path.join("svc", "broken.py")].startswith("syntax error at line 1")
    assert skipped[os.path.join("svc", "latin.py")].startswith("cannot decode")
    assert "skipped svc/broken.py: syntax error" in result.stderr.replace(os.sep, "/")
    found = {(f["path"], f["line"], f["col"]) for f in data["findings"]}
    assert (os.path.join("svc", "cookie.py"), 4, 14) in found  # column counts characters, not bytes
    assert (os.path.join("svc", "bom.py"), 3, 5) in found


def test_unicode_columns_are_characters(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("import time\nasync def f():\n    x = 'ééé'; time.sleep(1)\n", encoding="utf-8")
    result = scan([tmp_path], Config(root=tmp_path), jobs=1, use_cache=False)
    [f] = result.findings
    assert (f.line, f.col, f.end_col) == (3, 15, 28)


def test_warm_cache_reuses_summaries_and_sees_edits(project: Path) -> None:
    config = Config(root=project, exclude=list(DEFAULT_EXCLUDE))
    cold = scan([project / "svc"], config, jobs=1)
    assert cold.cache_hits == 0 and len(cold.findings) == 1
    warm = scan([project / "svc"], config, jobs=1)
    assert warm.cache_hits == 3 and len(warm.findings) == 1
    llm = project / "svc" / "llm.py"
    llm.write_text(SERVICE.replace("time.sleep(0.5)", "pass"))
    edited = scan([project / "svc"], config, jobs=1)
    assert edited.cache_hits == 2 and edited.findings == []
    assert (project / ".asgi-migrate-cache" / ".gitignore").read_text().endswith("*\n")


def test_parallel_summaries_match_serial(tmp_path: Path) -> None:
    for i in range(80):
        (tmp_path / f"m{i}.py").write_text(f"import time\nasync def f{i}():\n    time.sleep({i})\n")
    config = Config(root=tmp_path)
    serial = scan([tmp_path], config, jobs=1, use_cache=False)
    parallel = scan([tmp_path], config, jobs=2, use_cache=False)
    assert [(f.path, f.line) for f in serial.findings] == [(f.path, f.line) for f in parallel.findings]
    assert len(serial.findings) == 80


def test_parallel_cold_scan_writes_the_cache_from_the_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers write the shards no run wrote yet; shards already on disk are merged by the parent. Either
    way a later run finds every summary, and the findings equal an uncached scan's."""
    import asgi_migrate.cli.engine as engine

    for i in range(80):
        (tmp_path / f"m{i}.py").write_text(f"import time\nasync def f{i}():\n    time.sleep({i})\n")
    config = Config(root=tmp_path)
    expected = [(f.path, f.line) for f in scan([tmp_path], config, jobs=1, use_cache=False).findings]
    cache_dir = tmp_path / ".asgi-migrate-cache"
    cold = scan([tmp_path], config, jobs=2)
    assert cold.cache_hits == 0 and [(f.path, f.line) for f in cold.findings] == expected
    shards = sorted(cache_dir.glob("summaries-*.pickle"))
    assert len(shards) > 32 and len(sorted(cache_dir.glob("sites-*.pickle"))) == len(shards)
    warm = scan([tmp_path], config, jobs=2)
    assert warm.cache_hits == 80 and [(f.path, f.line) for f in warm.findings] == expected
    # half the shards lost, a few files edited in the others: both kinds of worker task in one run
    monkeypatch.setattr(engine, "_PARALLEL_THRESHOLD", 1)
    for shard in shards[::2]:
        shard.unlink()
    for i in range(0, 80, 7):
        (tmp_path / f"m{i}.py").write_text(f"import time\n\n\nasync def f{i}():\n    time.sleep({i})\n")
    expected = [(f.path, f.line) for f in scan([tmp_path], config, jobs=1, use_cache=False).findings]
    mixed = scan([tmp_path], config, jobs=2)
    assert 0 < mixed.cache_hits < 80 and [(f.path, f.line) for f in mixed.findings] == expected
    again = scan([tmp_path], config, jobs=2)
    assert again.cache_hits == 80 and [(f.path, f.line) for f in again.findings] == expected


def test_edited_files_summarised_while_the_cache_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files edited since the last scan are summarised in a worker started before the cache is read: the
    result equals an uncached scan's, and the next run finds the new summary in the cache."""
    import asgi_migrate.cli.engine as engine

    monkeypatch.setattr(engine, "_PREFETCH_BYTES", 0)
    for i in range(6):
        (tmp_path / f"m{i}.py").write_text(f"import time\nasync def f{i}():\n    time.sleep({i})\n")
    config = Config(root=tmp_path)
    scan([tmp_path], config, jobs=1, need_analysis=False)
    started: list[list[str]] = []
    real = engine._prefetch

    def spy(*args):  # type: ignore[no-untyped-def]
        pool, prefetched = real(*args)
        started.append(sorted(prefetched))
        return pool, prefetched

    monkeypatch.setattr(engine, "_prefetch", spy)
    edit = "import time\n\n\nasync def f3():\n    pass\n\n\nasync def g():\n    time.sleep(3)\n"
    (tmp_path / "m3.py").write_text(edit)
    edited = scan([tmp_path], config, jobs=1, need_analysis=False)
    expected = [(f.path, f.line) for f in scan([tmp_path], config, jobs=1, use_cache=False).findings]
    assert started[0] == ["m3.py"] and [(f.path, f.line) for f in edited.findings] == expected
    assert ("m3.py", 9) in expected and edited.cache_hits == 5
    again = scan([tmp_path], config, jobs=1)
    assert again.cache_hits == 6 and [(f.path, f.line) for f in again.findings] == expected


def test_rule_pages_are_generated_from_the_catalog() -> None:
    committed = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert committed == rule_pages_markdown(), "run `asgi-migrate rules -o docs/rules.md`"
    for heading in ("### What it does", "### Why is this bad?", "### Example", "### Use instead"):
        assert committed.count(heading) == committed.count("\n## AM")


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0 and result.stdout.startswith("asgi-migrate ")

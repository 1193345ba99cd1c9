"""Offload hazards (AM300-AM303): found where they are, silent where they are not, never rewritten."""

from __future__ import annotations

from pathlib import Path

from asgi_migrate.cli.app import app
from asgi_migrate.cli.config import Config, find_root, load_config
from asgi_migrate.cli.engine import scan
from asgi_migrate.codemods.analysis import ProjectFacts
from asgi_migrate.codemods.hazards import find_hazards
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT / "golden" / "hazards" / "sqlmodel_app"


def hazards_of(source: str, root: Path, facts: ProjectFacts | None = None) -> list[tuple[int, str]]:
    result = scan([root], Config(root=root), jobs=1, use_cache=False)
    facts = facts or result.analysis.facts()
    return [(h.line, h.code) for h in find_hazards(source, result.findings, facts, "app.py")]


def test_each_hazard_is_found_at_its_line() -> None:
    source = (CASE / "app.py").read_text()
    assert hazards_of(source, CASE) == [(32, "AM300"), (37, "AM301"), (8, "AM302"), (45, "AM302")]


def test_project_settings_silence_the_matching_hazards() -> None:
    source = (CASE / "app.py").read_text()
    facts = ProjectFacts(relationships=frozenset(), expire_on_commit_false=True, check_same_thread_false=True)
    assert hazards_of(source, CASE, facts) == [(45, "AM302")]


def test_refresh_after_commit_and_suppression_comment(tmp_path: Path) -> None:
    source = (CASE / "app.py").read_text()
    fixed = source.replace("    session.commit()\n    return hero", "    session.commit()\n    session.refresh(hero)\n"
                           "    return hero").replace("conn = sqlite3.connect(\"x.db\")",
                                                     "conn = sqlite3.connect(\"x.db\")  # asgi-migrate: ignore[AM302]")
    (tmp_path / "app.py").write_text(fixed)
    assert hazards_of(fixed, tmp_path) == [(38, "AM301"), (46, "AM302")]


def test_pool_exhaustion_on_the_example_app() -> None:
    example = ROOT / "examples" / "chatapp"
    result = scan([example], load_config(find_root(example)), jobs=1, use_cache=False)
    pool = [(h.path, h.line, h.call) for h in result.analysis.hazards]
    assert pool == [("app/main.py", 101, "app.repository.MessageRepository.create"),
                    ("app/main.py", 102, "app.repository.MessageRepository.get_history"),
                    ("app/main.py", 111, "app.repository.MessageRepository.create")]


def test_offload_reports_hazards_for_review_and_does_not_rewrite_them(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "app.py").write_text((CASE / "app.py").read_text())
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["offload", "app.py"], catch_exceptions=False)
    assert "3 finding(s) fixed, 4 left for review" in result.stderr
    assert "app.py:32:5 AM300 hazard-expired: hazard: ORM object read on the loop" in result.stderr

"""The progress bar: on a terminal after the delay, never on a pipe or under --quiet."""

from __future__ import annotations

import io
import sys

from asgi_migrate.cli.progress import progress_factory


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _run(monkeypatch, stream, **kw) -> str:
    monkeypatch.setattr(sys, "stderr", stream)
    step = progress_factory(**kw)("analysing", 3)
    for _ in range(3):
        step.advance()
    step.close()
    return stream.getvalue()


def test_terminal_shows_bar_after_delay(monkeypatch) -> None:
    assert "analysing" in _run(monkeypatch, _Tty(), delay=0.0)


def test_quick_step_prints_nothing(monkeypatch) -> None:
    assert _run(monkeypatch, _Tty(), delay=60.0) == ""


def test_pipe_and_quiet_print_nothing(monkeypatch) -> None:
    assert _run(monkeypatch, io.StringIO(), delay=0.0) == ""
    assert _run(monkeypatch, _Tty(), delay=0.0, quiet=True) == ""

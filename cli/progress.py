"""A progress bar on stderr for the long steps (summaries, rewrites), shown only when it helps.

Silent when stderr is not a terminal (CI logs, pipes, ``-o`` redirections) or under ``--quiet``, and
for steps that finish within ``delay`` seconds: the bar appears only once a step has run that long,
so quick runs print nothing extra. It is transient: the line is erased when the step ends.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Protocol


class Step(Protocol):
    def advance(self, n: int = 1) -> None: ...

    def close(self) -> None: ...


class _Silent:
    def advance(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


class _Bar:
    def __init__(self, description: str, total: int, delay: float) -> None:
        self.description, self.total, self.delay = description, total, delay
        self.start = time.monotonic()
        self.done = 0
        self.progress = None
        self.task = None

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self.progress is None:
            if time.monotonic() - self.start < self.delay:
                return
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                     TimeElapsedColumn(), console=Console(stderr=True), transient=True)
            self.progress.start()
            self.task = self.progress.add_task(self.description, total=self.total, completed=self.done)
        else:
            self.progress.update(self.task, completed=self.done)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


ProgressFactory = Callable[[str, int], Step]


def progress_factory(quiet: bool = False, delay: float = 1.0, force: bool = False) -> ProgressFactory:
    """``factory(description, total)`` -> a step to ``advance()`` and ``close()``."""
    enabled = force or (not quiet and sys.stderr.isatty())

    def factory(description: str, total: int) -> Step:
        return _Bar(description, total, delay) if enabled and total > 0 else _Silent()

    return factory


def silent(description: str, total: int) -> Step:
    return _Silent()

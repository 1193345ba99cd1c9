"""Nesting paths of functions, to find the same function in two versions of a module.

A path is the (name, rank among same-named siblings) of every enclosing class and def, from the module
down: ``(("class Repo", 0), ("get", 0))``. Line numbers move when a rewrite adds lines; paths do not.
"""

from __future__ import annotations

DefPath = tuple[tuple[str, int], ...]


class DefPathStack:
    """The path of the class or def being visited: ``push`` on entering one, ``pop`` on leaving it."""

    def __init__(self) -> None:
        self._stack: list[tuple[str, int]] = []
        self._counts: list[dict[str, int]] = [{}]

    def push(self, name: str) -> DefPath:
        """Enter ``name`` (a def name, or ``"class " + name``); returns its path."""
        counts = self._counts[-1]
        index = counts.get(name, 0)
        counts[name] = index + 1
        self._stack.append((name, index))
        self._counts.append({})
        return tuple(self._stack)

    def pop(self) -> None:
        self._stack.pop()
        self._counts.pop()

"""Elide the bodies of functions a rewrite does not touch, so libcst only parses and analyses the rest.

libcst's parser and its scope/position/parent providers cost far more than the edit itself (on a
23,000-line module: about 3 s to parse and 15 s of metadata on this machine), and a file with one
finding pays for every line of it. ``elide`` keeps line numbers and columns intact (so finding
positions still point at the same calls) and replaces the body of each function that holds no
finding with marker lines::

    def unrelated(x):                      def unrelated(x):
        total = 0                              pass  # am-elided:<nonce>:12
        for i in x:                  ->        # am-elided:<nonce>:13
            total += i                         # am-elided:<nonce>:14
        return total                           # am-elided:<nonce>:15

``restore`` puts every original line back in place of its marker in the rewritten text. A rewrite
never edits inside an elided body (it holds no finding), so the original bytes come back unchanged;
when a marker line is missing, moved or altered, ``restore`` returns ``None`` and the caller falls
back to the whole file. Headers (decorators, signature, ``async``) stay, so which names a module
binds and which functions are coroutines is unchanged; bodies that hold ``global``/``nonlocal`` or
one of the caller's ``keep`` tokens stay whole.
"""

from __future__ import annotations

import ast
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Python's own line breaks (not str.splitlines', which also splits on form feeds and U+2028).
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_INDENT = re.compile(r"[ \t\f]*")
_MIN_LINES = 4  # eliding fewer lines saves nothing


def split_lines(text: str) -> list[str]:
    """``text``'s lines with their line endings, as Python's tokenizer counts them."""
    return _LINE.findall(text)


@dataclass
class Elision:
    source: str  # the reduced source, same line count and columns as the original
    original_lines: list[str]
    placeholders: dict[int, str]  # 1-based line number -> the placeholder line written there
    nonce: str
    lines_elided: int

    def restore(self, rewritten: str) -> str | None:
        """``rewritten`` (the reduced source after a rewrite) with the elided lines put back, or ``None``
        when a placeholder did not come through unchanged."""
        marker = re.compile(rf"am-elided:{self.nonce}:(\d+)(?:\r\n|\r|\n)?$")
        out: list[str] = []
        seen = 0
        previous = 0  # the marker on the line before, 0 when that line was not one
        last = 0
        for line in split_lines(rewritten):
            match = marker.search(line)
            if match is None:
                out.append(line)
                previous = 0
                continue
            number = int(match.group(1))
            # markers come back exactly, in order, each elided body as one unbroken run of lines
            if self.placeholders.get(number) != line or number <= last \
                    or ((number - 1) in self.placeholders) != (previous == number - 1):
                return None
            seen += 1
            previous = last = number
            out.append(self.original_lines[number - 1])
        if seen != len(self.placeholders):
            return None
        return "".join(out)


def elide(source: str, spans: Iterable[tuple[int, int]], keep: Sequence[str] = ()) -> Elision | None:
    """Reduce ``source`` to the functions that overlap ``spans`` (1-based inclusive line ranges), their
    enclosing classes and every statement outside function bodies. ``None`` when nothing worth
    eliding was found, or ``source`` does not parse with this Python's ``ast``."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    wanted = sorted(spans)
    lines = split_lines(source)
    nonce = hashlib.blake2b(source.encode("utf-8", "surrogatepass"), digest_size=6).hexdigest()
    if f"am-elided:{nonce}" in source:  # cannot happen in practice; never risk a clash
        return None
    placeholders: dict[int, str] = {}
    for fn in _functions(tree.body):
        start = min([fn.lineno] + [d.lineno for d in fn.decorator_list])
        end = fn.end_lineno or fn.lineno
        if any(a <= end and b >= start for a, b in wanted):
            continue
        first = fn.body[0].lineno
        if end - first + 1 < _MIN_LINES or first > len(lines):
            continue
        head = lines[first - 1]
        # the body must start on a line of its own (an indented block, not `def f(): x`)
        if head.encode("utf-8", "surrogatepass")[:fn.body[0].col_offset].strip():
            continue
        segment = "".join(lines[first - 1:end])
        if any(token in segment for token in keep) or _binds_outside(fn):
            continue
        indent = _INDENT.match(head).group()  # type: ignore[union-attr]
        for number in range(first, end + 1):
            ending = lines[number - 1][len(lines[number - 1].rstrip("\r\n")):]
            text = f"pass  # am-elided:{nonce}:{number}" if number == first else f"# am-elided:{nonce}:{number}"
            placeholders[number] = f"{indent}{text}{ending}"
    if not placeholders:
        return None
    reduced = [placeholders.get(i, line) for i, line in enumerate(lines, 1)]
    return Elision("".join(reduced), lines, placeholders, nonce, len(placeholders))


def _functions(body: list[ast.stmt]) -> Iterable[ast.FunctionDef | ast.AsyncFunctionDef]:
    """Module-level functions and methods, through nested classes (not functions nested in functions)."""
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node.body)


def _binds_outside(fn: ast.AST) -> bool:
    """``global``/``nonlocal`` in the body: it binds names the rest of the module can see."""
    return any(isinstance(n, (ast.Global, ast.Nonlocal)) for n in ast.walk(fn))

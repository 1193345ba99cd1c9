'''Elide the bodies of functions a rewrite does not touch, so libcst only parses and analyses the rest.

libcst's parser and its scope/position/parent providers cost far more than the edit itself (on a
23,000-line module: about 3 s to parse and 15 s of metadata on this machine), and a file with one
finding pays for every line of it. ``elide`` keeps line numbers and columns intact (so finding
positions still point at the same calls) and replaces the body of each function that holds no
finding with one string literal over the same lines (one node for libcst, where comment lines would
cost several nodes each)::

    def unrelated(x):                      def unrelated(x):
        total = 0                              """am-elided:<nonce>:12:15
        for i in x:                  ->
            total += i
        return total                       """

``restore`` puts the original lines back in place of each marker in the rewritten text. A rewrite
never edits inside an elided body (it holds no finding), so the original bytes come back unchanged;
when a marker is missing, moved or altered, ``restore`` returns ``None`` and the caller falls back to
the whole file. Headers (decorators, signature, ``async``) stay, so which names a module
binds and which functions are coroutines is unchanged; bodies that hold ``global``/``nonlocal`` or
one of the caller's ``keep`` tokens stay whole.
'''

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
    regions: dict[int, list[str]]  # first line (1-based) of each elided body -> the lines written there
    nonce: str
    lines_elided: int

    def restore(self, rewritten: str) -> str | None:
        """``rewritten`` (the reduced source after a rewrite) with the elided lines put back, or ``None``
        when a placeholder did not come through unchanged."""
        marker = re.compile(rf'"""am-elided:{self.nonce}:(\d+):(\d+)')
        lines = split_lines(rewritten)
        out: list[str] = []
        seen, last, i = 0, 0, 0
        while i < len(lines):
            match = marker.search(lines[i])
            if match is None:
                if f"am-elided:{self.nonce}" in lines[i]:
                    return None
                out.append(lines[i])
                i += 1
                continue
            first, end = int(match.group(1)), int(match.group(2))
            written = self.regions.get(first)
            # each marker comes back exactly, whole, once and in order
            if written is None or first <= last or lines[i:i + len(written)] != written \
                    or end != first + len(written) - 1:
                return None
            out += self.original_lines[first - 1:end]
            seen, last, i = seen + 1, first, i + len(written)
        if seen != len(self.regions):
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
    regions: dict[int, list[str]] = {}
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
        endings = [line[len(line.rstrip("\r\n")):] for line in lines[first - 1:end]]
        written = [f'{indent}"""am-elided:{nonce}:{first}:{end}{endings[0]}']
        written += endings[1:-1] + [f'"""{endings[-1]}']
        regions[first] = written
    if not regions:
        return None
    reduced: list[str] = []
    number = 1
    for first in sorted(regions):
        reduced += lines[number - 1:first - 1] + regions[first]
        number = first + len(regions[first])
    reduced += lines[number - 1:]
    elided = sum(len(w) for w in regions.values())
    return Elision("".join(reduced), lines, regions, nonce, elided)


def _functions(body: list[ast.stmt]) -> Iterable[ast.FunctionDef | ast.AsyncFunctionDef]:
    """Module-level functions and methods, through nested classes and module-level ``if``/``try``
    blocks (``if TYPE_CHECKING:``, ``try: ... except ImportError:``), not functions nested in functions."""
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node.body)
        elif isinstance(node, ast.If):
            yield from _functions(node.body)
            yield from _functions(node.orelse)
        elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            for part in (node.body, node.orelse, node.finalbody):  # type: ignore[attr-defined]
                yield from _functions(part)
            for handler in node.handlers:  # type: ignore[attr-defined]
                yield from _functions(handler.body)


def _binds_outside(fn: ast.AST) -> bool:
    """``global``/``nonlocal`` in the body: it binds names the rest of the module can see."""
    return any(isinstance(n, (ast.Global, ast.Nonlocal)) for n in ast.walk(fn))

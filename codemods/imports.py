"""How a module can spell ``asyncio.to_thread`` / ``asyncio.sleep`` without new imports.

The offload rewrite reuses what the module already binds at top level:

* ``import asyncio`` / ``import asyncio as aio`` / ``import asyncio.subprocess``: ``aio.to_thread``;
* ``from asyncio import to_thread [as t]``: bare ``t`` (only for the names imported that way);
* otherwise it adds ``import asyncio`` and writes ``asyncio.X``.

Where ``import asyncio`` goes (``add_asyncio_import``): into the module's leading stdlib import
block at its sorted position when that block is sorted, isort/ruff style (plain ``import x`` lines
before ``from x import y`` lines, or all sorted by module with force-sort-within-sections);
otherwise ``AddImportsVisitor`` places it (after the last leading import).

Only module-level statements (and the body of a module-level ``try``) count: an import inside a
function or under ``if TYPE_CHECKING:`` does not bind the name where the rewrite needs it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import libcst as cst
import libcst.matchers as m
from libcst.helpers import get_full_name_for_node


@dataclass
class AsyncioNames:
    module_alias: str | None = None  # local name bound to the asyncio module
    imported: dict[str, str] = field(default_factory=dict)  # asyncio attribute -> local name

    def reference(self, attr: str) -> tuple[cst.BaseExpression, bool]:
        """The expression naming ``asyncio.<attr>``, and whether ``import asyncio`` must be added."""
        if self.module_alias is not None:
            return _attribute(self.module_alias, attr), False
        local = self.imported.get(attr)
        if local is not None:
            return cst.Name(local), False
        return _attribute("asyncio", attr), True


def asyncio_names(module: cst.Module) -> AsyncioNames:
    names = AsyncioNames()
    for stmt in _top_level_imports(module.body):
        if isinstance(stmt, cst.Import):
            for alias in stmt.names:
                dotted = get_full_name_for_node(alias.name) or ""
                if alias.asname is None and dotted.split(".", 1)[0] == "asyncio":
                    names.module_alias = names.module_alias or "asyncio"
                elif alias.asname is not None and dotted == "asyncio":
                    names.module_alias = names.module_alias or _asname(alias)
        elif _is_plain_from_asyncio(stmt) and not isinstance(stmt.names, cst.ImportStar):
            for alias in stmt.names:
                attr = get_full_name_for_node(alias.name) or ""
                names.imported.setdefault(attr, _asname(alias) if alias.asname else attr)
    return names


def _top_level_imports(body: Sequence[cst.BaseStatement]) -> Iterator[cst.Import | cst.ImportFrom]:
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, (cst.Import, cst.ImportFrom)):
                    yield small
        elif isinstance(stmt, cst.Try):
            # `try: import x / except ImportError:` still binds x when the import succeeds
            yield from _top_level_imports(stmt.body.body)


def _is_plain_from_asyncio(stmt: cst.Import | cst.ImportFrom) -> bool:
    return (isinstance(stmt, cst.ImportFrom) and not stmt.relative and stmt.module is not None
            and get_full_name_for_node(stmt.module) == "asyncio")


def _asname(alias: cst.ImportAlias) -> str:
    assert alias.asname is not None
    return get_full_name_for_node(alias.asname.name) or ""


def _attribute(base: str, attr: str) -> cst.Attribute:
    return cst.Attribute(value=cst.Name(base), attr=cst.Name(attr))


# ---------------------------------------------------------------------------------------------
# `import asyncio` in sorted position
# ---------------------------------------------------------------------------------------------

_STDLIB = frozenset(sys.stdlib_module_names)
_Key = tuple[str, str]


def add_asyncio_import(module: cst.Module) -> cst.Module | None:
    """``module`` with ``import asyncio`` inserted into its sorted stdlib block; None when there is none.

    The block is the first blank-line-separated group of the leading import lines (after the
    docstring, ``from __future__`` lines excluded) whose modules all belong to the stdlib. It must
    be sorted by one of the two conventions; ``import asyncio`` then takes its position (below the
    blank lines and comments that head the group when it becomes the first line). Nothing else moves.
    """
    group = _stdlib_group(module.body)
    if group is None:
        return None
    start, stop = group
    keys = [_line_key(module.body[i]) for i in range(start, stop)]
    if None in keys:
        return None
    position = _sorted_position(keys, ("import", "asyncio"))  # type: ignore[arg-type]
    if position is None:
        return None
    index = start + position
    new_line = cst.SimpleStatementLine(body=[cst.Import(names=[cst.ImportAlias(name=cst.Name("asyncio"))])])
    body = list(module.body)
    if position == 0:
        # the blank lines and any section comment above the group stay above it
        displaced = body[index]
        new_line = new_line.with_changes(leading_lines=displaced.leading_lines)
        body[index] = displaced.with_changes(leading_lines=[])
    body.insert(index, new_line)
    return module.with_changes(body=body)


def _import_line(stmt: cst.BaseStatement) -> cst.Import | cst.ImportFrom | None:
    """The import of a line that holds exactly one import statement."""
    if m.matches(stmt, m.SimpleStatementLine(body=[m.Import() | m.ImportFrom()])):
        return stmt.body[0]  # type: ignore[attr-defined,no-any-return]
    return None


def _is_docstring(stmt: cst.BaseStatement) -> bool:
    return m.matches(stmt, m.SimpleStatementLine(body=[m.Expr(value=m.SimpleString() | m.ConcatenatedString())]))


def _leading_imports(body: Sequence[cst.BaseStatement]) -> tuple[int, int]:
    """The index range of the import lines at the top of the module (after the docstring)."""
    start = 1 if body and _is_docstring(body[0]) else 0
    stop = start
    while stop < len(body) and _import_line(body[stop]) is not None:
        stop += 1
    return start, stop


def _stdlib_group(body: Sequence[cst.BaseStatement]) -> tuple[int, int] | None:
    """The first group of consecutive leading import lines that holds only stdlib modules."""
    start, stop = _leading_imports(body)
    i = start
    while i < stop:
        j = i + 1
        while j < stop and not _has_blank_line(body[j]):
            j += 1
        first = i
        while first < j and _module_of(body[first]) == "__future__":
            first += 1
        if first < j and all(_module_of(body[k]).split(".", 1)[0] in _STDLIB for k in range(first, j)):
            return first, j
        i = j
    return None


def _has_blank_line(stmt: cst.BaseStatement) -> bool:
    return any(line.comment is None for line in stmt.leading_lines)


def _module_of(stmt: cst.BaseStatement) -> str:
    imp = _import_line(stmt)
    if isinstance(imp, cst.Import):
        return get_full_name_for_node(imp.names[0].name) or ""
    if isinstance(imp, cst.ImportFrom) and not imp.relative and imp.module is not None:
        return get_full_name_for_node(imp.module) or ""
    return ""  # relative imports never belong to the stdlib group


def _line_key(stmt: cst.BaseStatement) -> _Key | None:
    imp = _import_line(stmt)
    if imp is None:
        return None
    if isinstance(imp, cst.Import) and len(imp.names) == 1:
        return ("import", _module_of(stmt))  # `import a.b as c` sorts by `a.b`, as isort and ruff do
    if isinstance(imp, cst.Import):
        return None  # `import a, b`: a hand-made block, not a sorted one
    return ("from", _module_of(stmt))


def _by_type(key: _Key) -> tuple[int, str, str]:
    """isort/ruff default: every ``import x`` line before every ``from x import y`` line."""
    return (key[0] == "from", key[1].lower(), key[1])


def _by_module(key: _Key) -> tuple[str, str, int]:
    """force-sort-within-sections: by module name whatever the statement form."""
    return (key[1].lower(), key[1], key[0] == "from")


def _sorted_position(keys: list[_Key], new: _Key) -> int | None:
    """Where ``new`` goes in ``keys`` when they are sorted by a known convention; None otherwise."""
    order: Callable[[_Key], tuple[object, ...]]
    for order in (_by_type, _by_module):  # the default convention wins when both hold
        ranks = [order(k) for k in keys]
        if ranks == sorted(ranks):
            rank = order(new)
            return sum(1 for r in ranks if r <= rank)
    return None

"""How a module can spell ``asyncio.to_thread`` / ``asyncio.sleep`` without new imports.

The offload rewrite reuses what the module already binds at top level:

* ``import asyncio`` / ``import asyncio as aio`` / ``import asyncio.subprocess``: ``aio.to_thread``;
* ``from asyncio import to_thread [as t]``: bare ``t`` (only for the names imported that way);
* otherwise it schedules ``import asyncio`` (through ``AddImportsVisitor``) and writes ``asyncio.X``.

Only module-level statements (and the body of a module-level ``try``) count: an import inside a
function or under ``if TYPE_CHECKING:`` does not bind the name where the rewrite needs it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import libcst as cst
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

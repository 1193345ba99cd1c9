"""The app's lifespan in a module: where targets create shared clients (startup) and close them (shutdown)."""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

_ACM = m.Name("asynccontextmanager") | m.Attribute(attr=m.Name("asynccontextmanager"))


def is_lifespan(fn: cst.FunctionDef) -> bool:
    """An ``@asynccontextmanager async def ...lifespan...`` that yields: FastAPI/Starlette's lifespan."""
    if fn.asynchronous is None:
        return False
    decorated = any(m.matches(d.decorator, _ACM) for d in fn.decorators)
    return decorated and "lifespan" in fn.name.value and bool(m.findall(fn.body, m.Yield()))


def top_yield(fn: cst.FunctionDef) -> int | None:
    """The index of the lifespan's top-level ``yield`` statement (its startup/shutdown boundary)."""
    if not isinstance(fn.body, cst.IndentedBlock):
        return None
    for i, stmt in enumerate(fn.body.body):
        if m.matches(stmt, m.SimpleStatementLine(body=[m.Expr(value=m.Yield())])):
            return i
    return None

"""The contract between the native driver and its targets.

A *target* knows one library (SQLAlchemy, redis, files, boto3...). The driver hands it, per file:

* the blocking call sites it handles, already mapped to libcst ``Call`` nodes, each inside a
  function that is async after the rewrite (the driver turns ``def`` into ``async def`` and adds
  ``await`` at the callers: targets never touch function definitions or project calls);
* one chance to rewrite each call (``rewrite_call``), returning the new expression: usually an
  ``await`` of the async API; the driver parenthesises it where the grammar needs it;
* one chance to rewrite the module as a whole (``rewrite_module``), after the calls: constructors
  (``create_engine`` -> ``create_async_engine``, ``redis.Redis`` -> ``redis.asyncio.Redis``),
  ``with`` -> ``async with``, lifespan shutdown hooks. It gets the same context.

A target never prints, never reads files, and refuses (``Refusal``) rather than guess. Imports go
through ``ctx.add_import`` (the driver applies them with ``AddImportsVisitor``), and the PyPI
requirements it needs through ``requirements``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import libcst as cst

from ..analysis import Finding


@dataclass(frozen=True)
class Refusal:
    """A site left unchanged, with the reason shown to the user."""

    reason: str


@dataclass
class NativeConfig:
    file_backend: str = "aiofiles"  # or "anyio"
    # "lifespan": one shared aioboto3 client per app lifespan (`get_<name>()` / `close_<name>()`);
    # "call": `async with open_<name>() as <name>:` around each function's uses
    boto3_client_scope: str = "lifespan"
    # "lifespan": one shared httpx.AsyncClient per module (`get_http_client()` / `close_http_client()`);
    # "call": `async with httpx.AsyncClient(...) as http_client:` around each request
    httpx_client_scope: str = "lifespan"


@dataclass
class TargetContext:
    """What a target may ask the driver about the file being rewritten."""

    config: NativeConfig
    module: cst.Module
    path: str
    # whether a function (by node identity in the ORIGINAL module) is async after the rewrite
    is_async_after: Callable[[cst.FunctionDef], bool]
    # the enclosing function of a node of the ORIGINAL module (None at module level)
    enclosing_function: Callable[[cst.CSTNode], cst.FunctionDef | None]
    parent: Callable[[cst.CSTNode], cst.CSTNode | None]
    imports: list[tuple[str, str | None, str | None]] = field(default_factory=list)  # (module, obj, alias)
    review: list[tuple[Finding | None, int, str]] = field(default_factory=list)  # (finding, line, reason)
    # imports to remove when nothing uses them any more after the rewrite (``import time``)
    drop_imports: list[tuple[str, str | None, str | None]] = field(default_factory=list)

    def add_import(self, module: str, obj: str | None = None, asname: str | None = None) -> None:
        """``import module`` (obj None) or ``from module import obj [as asname]``."""
        if (module, obj, asname) not in self.imports:
            self.imports.append((module, obj, asname))

    def drop_import(self, module: str, obj: str | None = None, asname: str | None = None) -> None:
        """Remove ``import module`` / ``from module import obj`` if the rewritten module no longer uses it."""
        if (module, obj, asname) not in self.drop_imports:
            self.drop_imports.append((module, obj, asname))

    def note(self, line: int, reason: str, finding: Finding | None = None) -> None:
        """Something the target did not rewrite (outside a call site): shown for review."""
        self.review.append((finding, line, reason))


class Target(Protocol):
    name: str
    requirements: tuple[str, ...]  # PyPI requirements the rewritten code needs

    def handles(self, finding: Finding) -> bool:
        """Whether this target rewrites the finding's blocking call natively."""

    def rewrite_call(self, call: cst.Call, original: cst.Call, finding: Finding,
                     ctx: TargetContext) -> cst.BaseExpression | Refusal:
        """The async replacement of ``call`` (``original`` is the node in the original module)."""

    def rewrite_module(self, module: cst.Module, ctx: TargetContext) -> cst.Module:
        """Module-wide rewrites (constructors, ``with`` statements, shutdown hooks); may return it unchanged."""


def awaited(expr: cst.BaseExpression) -> cst.Await:
    """``await expr`` with the call's own parentheses moved onto the await."""
    lpar, rpar = getattr(expr, "lpar", ()), getattr(expr, "rpar", ())
    if lpar:
        expr = expr.with_changes(lpar=(), rpar=())
    return cst.Await(expression=expr, lpar=lpar, rpar=rpar)

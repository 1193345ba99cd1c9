"""``time.sleep(x)`` -> ``await asyncio.sleep(x)``: the same delay, without holding the loop."""

from __future__ import annotations

import libcst as cst

from ...analysis import Finding
from ..base import Refusal, TargetContext, awaited


class SleepTarget:
    """Rewrite ``time.sleep(x)`` (any spelling the scanner resolved) to ``await asyncio.sleep(x)``."""

    name = "sleep"
    requirements: tuple[str, ...] = ()

    def handles(self, finding: Finding) -> bool:
        return finding.call == "time.sleep" and not finding.chained

    def rewrite_call(self, call: cst.Call, original: cst.Call, finding: Finding,
                     ctx: TargetContext) -> cst.BaseExpression | Refusal:
        if len(call.args) != 1 or call.args[0].keyword is not None or call.args[0].star:
            return Refusal("time.sleep with other than one positional argument")
        ctx.add_import("asyncio")
        ctx.drop_import("time")
        ctx.drop_import("time", "sleep")
        func = cst.Attribute(value=cst.Name("asyncio"), attr=cst.Name("sleep"))
        return awaited(call.with_changes(func=func))

    def rewrite_module(self, module: cst.Module, ctx: TargetContext) -> cst.Module:
        return module


TARGET = SleepTarget()

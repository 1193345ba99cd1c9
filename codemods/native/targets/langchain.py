"""LangChain / LangGraph runnables -> their async twins (same arguments, same results)::

    answer = chain.invoke({"q": q})             ->  answer = await chain.ainvoke({"q": q})
    outs = chain.batch(inputs)                  ->  outs = await chain.abatch(inputs)
    for chunk in graph.stream(inputs): ...      ->  async for chunk in graph.astream(inputs): ...
    state = graph.get_state(config)             ->  state = await graph.aget_state(config)
    graph.update_state(config, values)          ->  await graph.aupdate_state(config, values)

Every ``Runnable`` (chains, chat models, tools, retrievers, compiled LangGraph graphs) has these
async twins with the same signature; nothing is constructed differently. ``stream`` returns an
iterator: only a ``stream(...)`` call that is directly the iterable of a ``for`` statement is
converted (the ``for`` becomes ``async for``); any other use of it (assigned, passed on, in a
comprehension) is refused. A module that refers to LangGraph's sync-only checkpointers
(``SqliteSaver``, ``PostgresSaver``) is refused too: their graphs raise ``NotImplementedError`` in
the async methods, they need ``AsyncSqliteSaver`` / ``AsyncPostgresSaver``.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from ...analysis import Finding
from ..base import Refusal, TargetContext, awaited

ASYNC_TWINS = {"invoke": "ainvoke", "batch": "abatch", "stream": "astream", "get_state": "aget_state",
               "update_state": "aupdate_state"}
_SYNC_CHECKPOINTERS = frozenset({"SqliteSaver", "PostgresSaver"})
_PREFIX = "langchain.Runnable."


class LangchainTarget:
    """``invoke``/``batch``/``stream``/``get_state``/``update_state`` -> ``a*`` (see the module docstring)."""

    name = "langchain"
    requirements: tuple[str, ...] = ()  # the async twins ship with every langchain-core / langgraph release

    def handles(self, finding: Finding) -> bool:
        return finding.code == "AM270" and finding.call.startswith(_PREFIX) and not finding.chained \
            and finding.call[len(_PREFIX):] in ASYNC_TWINS

    def rewrite_call(self, call: cst.Call, original: cst.Call, finding: Finding,
                     ctx: TargetContext) -> cst.BaseExpression | Refusal:
        method = finding.call[len(_PREFIX):]
        if not m.matches(call.func, m.Attribute(attr=m.Name(method))):
            return Refusal(f"`{method}` is not called as a method of the runnable")
        checkpointer = _sync_checkpointer(ctx)
        if checkpointer:
            return Refusal(f"the module uses LangGraph's sync `{checkpointer}`: the async methods of its graphs "
                           f"raise NotImplementedError; switch to the `Async{checkpointer}` first")
        func = call.func.with_changes(attr=cst.Name(ASYNC_TWINS[method]))  # type: ignore[union-attr]
        new = call.with_changes(func=func)
        if method != "stream":
            return awaited(new)
        loop = ctx.parent(original)
        if not (isinstance(loop, cst.For) and loop.iter is original and loop.asynchronous is None):
            return Refusal("`stream(...)` is not directly the iterable of a `for` statement: its async twin "
                           "`astream` must be consumed with `async for`; rewrite it by hand")
        return new  # the `for` becomes `async for` in rewrite_module

    def rewrite_module(self, module: cst.Module, ctx: TargetContext) -> cst.Module:
        return module.visit(_AsyncFor())


def _sync_checkpointer(ctx: TargetContext) -> str:
    cache = ctx.__dict__.setdefault("_langchain", {})
    if "checkpointer" not in cache:
        names = {n.value for n in m.findall(ctx.module, m.Name())} | \
                {a.attr.value for a in m.findall(ctx.module, m.Attribute())}  # type: ignore[union-attr]
        cache["checkpointer"] = next((c for c in sorted(_SYNC_CHECKPOINTERS) if c in names), "")
    return cache["checkpointer"]


class _AsyncFor(cst.CSTTransformer):
    """``for x in r.astream(...)`` (left by ``rewrite_call``) -> ``async for``: a sync ``for`` cannot iterate it."""

    def leave_For(self, original_node: cst.For, updated_node: cst.For) -> cst.For:
        if updated_node.asynchronous is None and \
                m.matches(updated_node.iter, m.Call(func=m.Attribute(attr=m.Name("astream")))):
            return updated_node.with_changes(asynchronous=cst.Asynchronous())
        return updated_node


TARGET = LangchainTarget()

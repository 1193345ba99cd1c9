"""Where an ``await`` may replace a call: the syntactic checks behind the offload rewrite.

Everything here reads the tree through a ``parent`` function (libcst's ``ParentNodeProvider``)
and never changes it. The offload codemod asks three questions per call:

* ``refusal``: is ``await`` illegal, or does it change meaning, at this place? (a reason, or None)
* ``extend_chain``: which node should be replaced, so that method calls on the blocking result
  (``requests.get(u).json()``) move into the thread with it?
* ``needs_parens``: does the ``await`` expression need parentheses in its parent (trailers only)?
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import libcst as cst
import libcst.matchers as m

Parent = Callable[[cst.CSTNode], "cst.CSTNode | None"]

WITH_BLOCK = "block rewrite refused (sync with-statement)"
_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)


def refusal(node: cst.CSTNode, parent: Parent, blocked_withs: Mapping[cst.With, str] | None = None) -> str | None:
    """Why ``await`` cannot replace ``node`` here; None when it is legal and keeps the meaning.

    Walks up to the enclosing function. ``blocked_withs`` are sync ``with`` statements whose items
    are themselves blocking calls and whose block could not move to a sync helper (the reason).
    """
    blocked_withs = blocked_withs or {}
    path: list[cst.CSTNode] = [node]
    in_comprehension = False
    current = parent(node)
    while current is not None:
        child = path[-1]
        if isinstance(current, cst.Lambda):
            return "inside a lambda: await is illegal there"
        if isinstance(current, _COMPREHENSIONS) and not _outermost_iterable(current, path):
            # the first `for ... in X` is evaluated in the enclosing scope; everything else is not
            if isinstance(current, cst.GeneratorExp):
                return "inside a generator expression: await would turn it into an async generator"
            in_comprehension = True
        if isinstance(current, cst.Decorator):
            return "in a decorator: it runs when the function is defined, not on each call"
        if isinstance(current, cst.Param) and child is current.default:
            return "in a default argument: it runs when the function is defined"
        if isinstance(current, cst.Annotation):
            return "in an annotation"
        if isinstance(current, cst.With) and current.asynchronous is None:
            why = blocked_withs.get(current) or "it cannot move to a sync helper"
            if isinstance(child, cst.WithItem):
                return f"{WITH_BLOCK}: `with` item; {why}"
            if child is current.body and current in blocked_withs:
                return f"{WITH_BLOCK}: inside the block; {why}"
        if isinstance(current, cst.ClassDef):
            return "in a class body: await is illegal there"
        if isinstance(current, cst.FunctionDef):
            if child is not current.body:
                return "in a function signature: it runs when the function is defined"
            if current.asynchronous is not None:
                return None
            if in_comprehension:
                return "inside a comprehension in a sync function: await is illegal there"
            return "inside a nested sync def: await is illegal there"
        path.append(current)
        current = parent(current)
    return "not inside an async function"


def with_item_statement(node: cst.CSTNode, parent: Parent) -> cst.With | None:
    """The sync ``with`` whose item contains ``node`` (stopping at scope boundaries)."""
    child, current = node, parent(node)
    while current is not None and not isinstance(current, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
        if isinstance(current, cst.With) and current.asynchronous is None and isinstance(child, cst.WithItem):
            return current
        child, current = current, parent(current)
    return None


def _outermost_iterable(comp: cst.CSTNode, path: list[cst.CSTNode]) -> bool:
    """Whether ``path`` (bottom-up, ending below ``comp``) goes through comp's first ``in`` clause."""
    if len(path) < 2:
        return False
    for_in = getattr(comp, "for_in", None)
    return path[-1] is for_in and for_in is not None and path[-2] is for_in.iter


def extend_chain(call: cst.BaseExpression, parent: Parent) -> cst.BaseExpression:
    """The outermost call of ``call(...).m1(...).m2(...)``: the chain runs in the thread as a whole.

    Stops below a call that is awaited: ``await get_client().aclose()`` keeps its ``await`` on the
    loop, only ``get_client()`` moves.
    """
    node = call
    while True:
        attr = parent(node)
        outer = parent(attr) if isinstance(attr, cst.Attribute) and attr.value is node else None
        if not isinstance(outer, cst.Call) or outer.func is not attr or isinstance(parent(outer), cst.Await):
            return node
        node = outer


def contains(ancestor: cst.CSTNode, node: cst.CSTNode, parent: Parent) -> bool:
    current = parent(node)
    while current is not None:
        if current is ancestor:
            return True
        current = parent(current)
    return False


def needs_parens(node: cst.BaseExpression, parent: Parent) -> bool:
    """Whether ``await <node>`` must be parenthesised where ``node`` stands.

    ``await`` binds tighter than every unary and binary operator (``await x ** 2`` is
    ``(await x) ** 2``, ``-await x`` is ``-(await x)``), so only the trailers of a primary need
    parentheses: ``(await f()).attr``, ``(await f())[k]``, ``(await f())()``, and an ``await``
    directly under another ``await``.
    """
    if node.lpar:
        return False  # the call's own parentheses move onto the await
    up = parent(node)
    if isinstance(up, (cst.Attribute, cst.Subscript)):
        return up.value is node
    if isinstance(up, cst.Call):
        return up.func is node
    return isinstance(up, cst.Await)


_LAMBDA_UNSAFE = m.NamedExpr() | m.Await() | m.Yield() | m.Call(func=m.Name("super"), args=())


def lambda_hazard(expr: cst.BaseExpression) -> str | None:
    """Why ``expr`` cannot become the body of ``lambda: expr`` without changing meaning."""
    for found in m.findall(expr, _LAMBDA_UNSAFE):
        what = {cst.NamedExpr: "`:=`", cst.Await: "`await`", cst.Yield: "`yield`"}.get(type(found), "`super()`")
        return f"cannot move the expression into a lambda: it contains {what}"
    return None

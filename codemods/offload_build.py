"""Node builders for the offload rewrite: the three shapes a blocking call turns into.

* ``plain``:  ``f(a, b=c)``            -> ``await asyncio.to_thread(f, a, b=c)``
* ``lazy``:   ``s.exec(q).all()``      -> ``await asyncio.to_thread(lambda: s.exec(q).all())``
* ``sleep``:  ``time.sleep(x)``        -> ``await asyncio.sleep(x)``

The original argument nodes are reused as they are, so their spelling, comments and line breaks
survive; only the outer call changes.
"""

from __future__ import annotations

import libcst as cst


def plain(to_thread: cst.BaseExpression, call: cst.Call) -> cst.Call:
    """``to_thread(func, *args)``: the callee is evaluated on the loop, the call in the thread."""
    func = cst.Arg(value=call.func)
    if not call.args:
        return cst.Call(func=to_thread, args=[func])
    before = call.whitespace_before_args
    if isinstance(before, cst.ParenthesizedWhitespace):
        # multi-line call: put the callee on its own line, indented like the first argument,
        # and keep any comment after `(` where it was
        after_func: cst.BaseParenthesizableWhitespace = cst.ParenthesizedWhitespace(
            first_line=cst.TrailingWhitespace(), empty_lines=[], indent=before.indent, last_line=before.last_line)
    else:
        after_func = cst.SimpleWhitespace(" ")
    func = func.with_changes(comma=cst.Comma(whitespace_after=after_func))
    return cst.Call(func=to_thread, args=[func, *call.args], whitespace_before_args=before)


def lazy(to_thread: cst.BaseExpression, expr: cst.BaseExpression) -> cst.Call:
    """``to_thread(lambda: expr)``: nothing of ``expr`` is evaluated on the loop."""
    body = expr.with_changes(lpar=[], rpar=[])
    return cst.Call(func=to_thread, args=[cst.Arg(value=cst.Lambda(params=cst.Parameters(), body=body))])


def sleep(asyncio_sleep: cst.BaseExpression, call: cst.Call) -> cst.Call:
    return cst.Call(func=asyncio_sleep, args=call.args, whitespace_before_args=call.whitespace_before_args)


def awaited(call: cst.Call, original: cst.BaseExpression, parens: bool) -> cst.Await:
    """``await call``, taking over the parentheses of the expression it replaces."""
    lpar, rpar = list(original.lpar), list(original.rpar)
    if parens and not lpar:
        lpar, rpar = [cst.LeftParen()], [cst.RightParen()]
    return cst.Await(expression=call, lpar=lpar, rpar=rpar)


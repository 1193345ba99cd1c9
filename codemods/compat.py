"""Read code newer than the running Python: lower PEP 695 / PEP 701 syntax so ``ast`` can parse it.

The analysis runs on ``ast`` for speed, and ``ast`` only knows the running interpreter's grammar.
libcst parses every version's grammar, so when ``ast`` refuses a file that libcst accepts, we lower
the constructs older interpreters lack and summarise the lowered code instead:

* ``type X[T] = Y`` becomes ``X = Y``;
* type parameter lists (``def f[T]``, ``class C[T]``) are dropped;
* ``except*`` becomes ``except`` (Python 3.10);
* f-strings that reuse their own quotes inside replacement fields (PEP 701) become ``""``.

Lines are kept (nothing is added or removed across lines), so line numbers stay exact; columns can
shift on a lowered line only. Only analysis uses the lowered text; rewrites always start from the
original source.
"""

from __future__ import annotations

import ast

import libcst as cst


class _Lower(cst.CSTTransformer):
    def leave_TypeAlias(self, original: cst.TypeAlias, updated: cst.TypeAlias) -> cst.Assign:
        return cst.Assign(targets=[cst.AssignTarget(updated.name)], value=updated.value,
                          semicolon=updated.semicolon)

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        return updated.with_changes(type_parameters=None) if updated.type_parameters else updated

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        return updated.with_changes(type_parameters=None) if updated.type_parameters else updated

    def leave_TryStar(self, original: cst.TryStar, updated: cst.TryStar) -> cst.Try:
        handlers = [cst.ExceptHandler(body=h.body, type=h.type, name=h.name, leading_lines=h.leading_lines,
                                      whitespace_after_except=cst.SimpleWhitespace(" "),
                                      whitespace_before_colon=h.whitespace_before_colon)
                    for h in updated.handlers]
        return cst.Try(body=updated.body, handlers=handlers, orelse=updated.orelse, finalbody=updated.finalbody,
                       leading_lines=updated.leading_lines, whitespace_before_colon=updated.whitespace_before_colon)

    def leave_FormattedString(self, original: cst.FormattedString,
                              updated: cst.FormattedString) -> cst.BaseExpression:
        text = cst.Module([]).code_for_node(original)
        if "\n" in text:
            return updated
        try:
            ast.parse(text, mode="eval")
            return updated
        except SyntaxError:
            return cst.SimpleString('""')


def lower_source(source: str) -> str | None:
    """``source`` rewritten for the running ``ast``, or None when libcst cannot parse it either."""
    try:
        module = cst.parse_module(source)
    except (cst.ParserSyntaxError, RecursionError, ValueError):
        return None
    return module.visit(_Lower()).code

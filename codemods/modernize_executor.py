"""Modernise legacy offloading in coroutines (finding AM280).

Rewrites, inside ``async def`` only::

    loop = asyncio.get_event_loop()                  ->  (removed when nothing else uses ``loop``)
    await loop.run_in_executor(None, f, x)           ->  await asyncio.to_thread(f, x)
    await loop.run_in_executor(None, partial(f, a, k=1), x)  ->  await asyncio.to_thread(f, a, x, k=1)
    await asyncio.get_event_loop().run_in_executor(None, f)  ->  await asyncio.to_thread(f)
    loop.run_in_executor(pool, f)                    ->  kept (explicit executor), loop from get_running_loop()
    asyncio.get_event_loop()  (any other use)        ->  asyncio.get_running_loop()

Only *awaited* ``run_in_executor(None, ...)`` calls become ``to_thread``: ``run_in_executor`` starts the
work at once and returns a future, while ``to_thread`` returns a coroutine that starts when awaited, so a
future kept for later (``fut = loop.run_in_executor(...)``) keeps its form.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m
from libcst.metadata import MetadataWrapper, ParentNodeProvider

from .imports import asyncio_names

_PARTIAL = m.Call(func=m.Name("partial") | m.Attribute(value=m.Name("functools"), attr=m.Name("partial")))


@dataclass
class ModernizeResult:
    code: str
    rewritten: int = 0


class _Collector(cst.CSTVisitor):
    """Finds ``get_event_loop()`` calls made directly in coroutines (not in nested sync code)."""

    METADATA_DEPENDENCIES = (ParentNodeProvider,)

    def __init__(self, spellings: m.BaseMatcherNode) -> None:
        self.spellings = spellings
        self.found: list[tuple[cst.Call, cst.FunctionDef]] = []
        self._stack: list[cst.FunctionDef | cst.Lambda] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._stack.append(node)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._stack.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._stack.append(node)

    def leave_Lambda(self, node: cst.Lambda) -> None:
        self._stack.pop()

    def visit_Call(self, node: cst.Call) -> None:
        if not node.args and m.matches(node.func, self.spellings) and self._stack:
            function = self._stack[-1]
            if isinstance(function, cst.FunctionDef) and function.asynchronous is not None:
                self.found.append((node, function))


class _Uses(cst.CSTVisitor):
    """Every ``Name`` node spelling ``name`` inside a function (loads and stores)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.nodes: list[cst.Name] = []

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == self.name:
            self.nodes.append(node)


def _to_thread_args(call: cst.Call) -> list[cst.Arg] | None:
    """Arguments for ``to_thread`` from ``run_in_executor(None, f, *args)``, or None when not that shape."""
    args = list(call.args)
    if len(args) < 2 or args[0].keyword or args[0].star or not m.matches(args[0].value, m.Name("None")):
        return None
    if any(a.keyword or a.star == "**" for a in args):
        return None
    func, rest = args[1], args[2:]
    if func.star:
        return None
    if m.matches(func.value, _PARTIAL):
        partial = func.value
        assert isinstance(partial, cst.Call)
        inner = list(partial.args)
        if not inner or inner[0].keyword or inner[0].star:
            return None
        positional = [a for a in inner[1:] if not a.keyword and a.star != "**"]
        keywords = [a for a in inner[1:] if a.keyword or a.star == "**"]
        ordered = [inner[0]] + positional + rest + keywords
    else:
        ordered = [func] + rest
    # clean separators: every argument but the last gets a comma
    out = []
    for i, a in enumerate(ordered):
        comma = (cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")) if i < len(ordered) - 1
                 else cst.MaybeSentinel.DEFAULT)
        out.append(a.with_changes(comma=comma))
    return out


def _get_event_loop_spellings(module: cst.Module) -> m.BaseMatcherNode | None:
    names = asyncio_names(module)
    options: list[m.BaseMatcherNode] = []
    if names.module_alias:
        options.append(m.Attribute(value=m.Name(names.module_alias), attr=m.Name("get_event_loop")))
    if "get_event_loop" in names.imported:
        options.append(m.Name(names.imported["get_event_loop"]))
    if not options:
        return None
    matcher = options[0]
    for option in options[1:]:
        matcher = matcher | option  # type: ignore[assignment]
    return matcher


def modernize_source(source: str) -> ModernizeResult:
    """Apply the rewrites above; ``rewritten`` counts the ``get_event_loop()`` calls handled."""
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError:
        return ModernizeResult(source)
    spellings = _get_event_loop_spellings(module)
    if spellings is None or "get_event_loop" not in source:
        return ModernizeResult(source)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    collector = _Collector(spellings)
    wrapper.visit(collector)
    if not collector.found:
        return ModernizeResult(source)
    parents = wrapper.resolve(ParentNodeProvider)
    names = asyncio_names(module)
    running_loop, need_import = names.reference("get_running_loop")
    to_thread, need_import_2 = names.reference("to_thread")

    replace: dict[cst.CSTNode, cst.CSTNode] = {}
    remove: set[cst.CSTNode] = set()
    result = ModernizeResult(source)
    used_to_thread = False
    for call, function in collector.found:
        parent = parents[call]
        # asyncio.get_event_loop().run_in_executor(None, f, x), awaited
        if isinstance(parent, cst.Attribute) and parent.attr.value == "run_in_executor":
            outer = parents[parent]
            if isinstance(outer, cst.Call) and isinstance(parents[outer], cst.Await):
                args = _to_thread_args(outer)
                if args is not None:
                    replace[outer] = cst.Call(func=to_thread, args=args)
                    used_to_thread = True
                    result.rewritten += 1
                    continue
            replace[call] = cst.Call(func=running_loop)
            result.rewritten += 1
            continue
        statement = _assignment_statement(call, parent, parents)
        if statement is None:
            replace[call] = cst.Call(func=running_loop)
            result.rewritten += 1
            continue
        target_name = statement.body[0].targets[0].target.value  # type: ignore[attr-defined]
        uses = _Uses(target_name)
        function.body.visit(uses)
        remaining = 0
        for name in uses.nodes:
            node_parent = parents.get(name)
            if node_parent is statement.body[0].targets[0]:  # the assignment itself
                continue
            executor_call = _awaited_executor_call(name, parents)
            if executor_call is not None:
                args = _to_thread_args(executor_call)
                if args is not None:
                    replace[executor_call] = cst.Call(func=to_thread, args=args)
                    used_to_thread = True
                    continue
            remaining += 1
        block = parents.get(statement)
        alone = isinstance(block, cst.IndentedBlock) and len(block.body) == 1
        if remaining == 0 and not alone:
            remove.add(statement)
        else:
            replace[call] = cst.Call(func=running_loop)
        result.rewritten += 1

    if not replace and not remove:
        return result
    new_module = module.visit(_Apply(replace, remove))
    if (need_import and any(n.func is running_loop for n in replace.values() if isinstance(n, cst.Call))) or (
            need_import_2 and used_to_thread):
        from libcst.codemod import CodemodContext
        from libcst.codemod.visitors import AddImportsVisitor

        context = CodemodContext()
        AddImportsVisitor.add_needed_import(context, "asyncio")
        new_module = AddImportsVisitor(context).transform_module(new_module)
    result.code = new_module.code
    return result


def _assignment_statement(call: cst.Call, parent: cst.CSTNode,
                          parents) -> cst.SimpleStatementLine | None:
    """``loop = asyncio.get_event_loop()`` as a whole statement line, or None."""
    if not isinstance(parent, cst.Assign) or parent.value is not call or len(parent.targets) != 1:
        return None
    if not isinstance(parent.targets[0].target, cst.Name):
        return None
    line = parents.get(parent)
    if isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1:
        return line
    return None


def _awaited_executor_call(name: cst.Name, parents) -> cst.Call | None:
    """``await <name>.run_in_executor(...)`` around this use of the loop name, or None."""
    attr = parents.get(name)
    if not (isinstance(attr, cst.Attribute) and attr.value is name and attr.attr.value == "run_in_executor"):
        return None
    call = parents.get(attr)
    if isinstance(call, cst.Call) and call.func is attr and isinstance(parents.get(call), cst.Await):
        return call
    return None


class _Apply(cst.CSTTransformer):
    def __init__(self, replace: dict[cst.CSTNode, cst.CSTNode], remove: set[cst.CSTNode]) -> None:
        self.replace = replace
        self.remove = remove

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        new = self.replace.get(original)
        if new is None:
            return updated
        assert isinstance(new, cst.Call)
        return new.with_changes(lpar=updated.lpar, rpar=updated.rpar)

    def leave_IndentedBlock(self, original: cst.IndentedBlock, updated: cst.IndentedBlock) -> cst.IndentedBlock:
        if not any(stmt in self.remove for stmt in original.body):
            return updated
        body: list[cst.BaseStatement] = []
        carried: list[cst.EmptyLine] = []  # comments above a removed statement move to the next one
        for before, after in zip(original.body, updated.body):
            if before in self.remove:
                carried += list(before.leading_lines)  # type: ignore[union-attr]
                continue
            lines = carried + list(after.leading_lines)  # type: ignore[union-attr]
            carried = []
            if not body:  # a block does not start with blank lines
                while lines and lines[0].comment is None:
                    lines.pop(0)
            body.append(after.with_changes(leading_lines=lines))
        return updated.with_changes(body=body)

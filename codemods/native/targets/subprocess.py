"""``subprocess.run`` and friends -> ``asyncio.create_subprocess_exec`` + ``communicate``, via one helper.

``subprocess.run`` is several statements of process handling (start, feed, wait, decode, check),
so the rewrite adds ONE module-level coroutine per file, right after the imports, and calls it::

    subprocess.run(["git", "pull"], check=True, cwd=repo)
        ->  await _run_subprocess(["git", "pull"], check=True, cwd=repo)
    out = subprocess.check_output(["git", "rev-parse", "HEAD"], text=True)
        ->  out = (await _run_subprocess(["git", "rev-parse", "HEAD"], text=True, check=True,
                                         stdout=subprocess.PIPE)).stdout
    rc = subprocess.call(argv)                  ->  rc = (await _run_subprocess(argv)).returncode
    subprocess.check_call(argv)                 ->  (await _run_subprocess(argv, check=True)).returncode

``_run_subprocess`` mirrors ``subprocess.run`` exactly for the arguments it accepts: it returns a real
``subprocess.CompletedProcess`` (``.stdout``, ``.returncode``, ``check_returncode()`` keep working),
raises ``subprocess.CalledProcessError(returncode, argv, output, stderr)`` under ``check``, pipes
``input`` (encoded like a text-mode pipe), and decodes like a text-mode ``Popen`` (locale encoding
unless ``encoding=``, ``errors=`` or strict, universal newlines). ``check_output`` captures stdout
only (stderr passes through, unless ``stderr=subprocess.STDOUT``). A cancelled call kills the child,
as ``subprocess.run`` does on an interrupt.

Accepted arguments: an argv that is visibly a list or tuple (a literal, a local name only ever bound
to one, or a parameter annotated ``list[...]`` / ``tuple[...]``), ``check``, ``capture_output``,
``text`` / ``universal_newlines``, ``encoding``, ``errors``, ``cwd``, ``env``, ``input``, ``shell=False``,
``stdout=`` / ``stderr=`` given as ``subprocess.PIPE`` / ``STDOUT`` / ``DEVNULL`` / ``None``, and
``stdin=subprocess.DEVNULL``. Refused: ``shell=True`` or non-literal ``shell``, a string argv (or one
that may be a string), ``timeout=`` (``asyncio.wait_for`` loses the partial output that
``TimeoutExpired`` carries), file objects for ``stdin``/``stdout``/``stderr``, any other ``Popen``
argument, ``*args``/``**kwargs``; ``Popen``, ``getoutput``, ``getstatusoutput`` and ``os.system`` are
not handled (no exact async twin) and stay for offloading.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from ...analysis import Finding
from ...imports import _line_key, _sorted_position, _stdlib_group
from ..base import Refusal, TargetContext, awaited

HELPER = "_run_subprocess"
_HANDLED = frozenset({"subprocess.run", "subprocess.check_output", "subprocess.call", "subprocess.check_call"})
_PASSED = frozenset({"check", "capture_output", "text", "encoding", "errors", "cwd", "env", "input"})
_STREAM_CONSTANTS = frozenset({"PIPE", "STDOUT", "DEVNULL"})
_HELPER_SOURCE = f'''
async def {HELPER}(argv, *, check=False, capture_output=False, stdin=None, stdout=None, stderr=None,
                          input=None, text=False, encoding=None, errors=None, cwd=None,
                          env=None) -> subprocess.CompletedProcess:
    """``subprocess.run(argv, ...)`` without blocking the event loop (added by asgi-migrate).

    The same ``CompletedProcess``, ``CalledProcessError`` and text-mode decoding as ``subprocess.run``.
    """
    if capture_output:
        stdout = stderr = subprocess.PIPE
    text = text or encoding is not None or errors is not None
    encoding = encoding or locale.getpreferredencoding(False)
    if input is not None:
        stdin = subprocess.PIPE
        if text:
            input = input.encode(encoding, errors or "strict")
    process = await asyncio.create_subprocess_exec(
        *argv, stdin=stdin, stdout=stdout, stderr=stderr, cwd=cwd, env=env)
    try:
        output, error = await process.communicate(input)
    except BaseException:  # cancelled: kill and reap the child, as subprocess.run does
        if process.returncode is None:
            process.kill()
        await process.wait()
        raise
    if text:
        output, error = (
            None if data is None
            else data.decode(encoding, errors or "strict").replace("\\r\\n", "\\n").replace("\\r", "\\n")
            for data in (output, error))
    if check and process.returncode:
        raise subprocess.CalledProcessError(process.returncode, argv, output=output, stderr=error)
    return subprocess.CompletedProcess(argv, process.returncode, output, error)
'''


class SubprocessTarget:
    """``subprocess.run/check_output/call/check_call`` -> ``await _run_subprocess(...)`` (see the module docstring)."""

    name = "subprocess"
    requirements: tuple[str, ...] = ()

    def handles(self, finding: Finding) -> bool:
        return finding.code == "AM110" and finding.call in _HANDLED and not finding.chained

    def rewrite_call(self, call: cst.Call, original: cst.Call, finding: Finding,
                     ctx: TargetContext) -> cst.BaseExpression | Refusal:
        function = finding.call.rsplit(".", 1)[1]
        if not call.args or call.args[0].keyword is not None or call.args[0].star:
            return Refusal("the argv is not the first positional argument")
        args: list[cst.Arg] = [call.args[0]]
        given: set[str] = set()
        for arg in call.args[1:]:
            if arg.star:
                return Refusal("`*args`/`**kwargs` in the call: the arguments cannot be checked")
            if arg.keyword is None:
                return Refusal("positional arguments after the argv (Popen's bufsize, executable...)")
            kw = arg.keyword.value
            reason = _keyword_reason(function, kw, arg.value)
            if reason:
                return Refusal(reason)
            if kw == "shell":
                continue  # shell=False: the default of create_subprocess_exec
            if kw == "universal_newlines":
                if "text" in given:
                    return Refusal("both `text=` and `universal_newlines=`")
                kw = "text"
                arg = arg.with_changes(keyword=cst.Name("text"))
            given.add(kw)
            args.append(arg)
        reason = _argv_reason(call.args[0].value, original, ctx)
        if reason:
            return Refusal(reason)
        if function == "check_output" and "capture_output" in given:
            return Refusal("`capture_output=` with check_output raises ValueError (stdout is set)")
        if function in ("run", "check_output") and "capture_output" in given and given & {"stdout", "stderr"}:
            return Refusal("`capture_output=` with `stdout=`/`stderr=` raises ValueError")
        if "input" in given and "stdin" in given:
            return Refusal("`input=` with `stdin=` raises ValueError")
        extra = []
        if function in ("check_output", "check_call"):
            extra.append(_kwarg("check", cst.Name("True")))
        if function == "check_output":
            extra.append(_kwarg("stdout", cst.Attribute(cst.Name("subprocess"), cst.Name("PIPE"))))
        args = _joined(args, extra, call.args[-1].comma)
        state = _state(ctx)
        state["converted"] = True
        if isinstance(call.func, cst.Name):
            ctx.drop_import("subprocess", call.func.value)
        new = call.with_changes(func=cst.Name(state["helper"]), args=args)
        if function == "run" or isinstance(ctx.parent(original), cst.Expr):
            return awaited(new)  # a statement: the result (stdout / returncode) is not used
        attr = "stdout" if function == "check_output" else "returncode"
        inner = awaited(new.with_changes(lpar=[], rpar=[]))
        return cst.Attribute(value=inner.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()]),
                             attr=cst.Name(attr), lpar=call.lpar, rpar=call.rpar)

    def rewrite_module(self, module: cst.Module, ctx: TargetContext) -> cst.Module:
        state = _state(ctx)
        if not state["converted"]:
            return module
        ctx.add_import("asyncio")
        for name in ("locale", "subprocess"):
            module = _with_stdlib_import(module, name, ctx)
        if not state["exists"]:
            module = _with_helper(module, state["helper"])
        return module


def _state(ctx: TargetContext) -> dict:
    state = ctx.__dict__.get("_subprocess")
    if state is None:
        existing = {s.name.value for s in ctx.module.body if isinstance(s, cst.FunctionDef)}
        bound = {n.value for n in m.findall(ctx.module, m.Name())}  # type: ignore[union-attr]
        helper, i = HELPER, 1
        while helper in bound and helper not in existing:
            i += 1
            helper = f"{HELPER}{i}"
        state = ctx.__dict__["_subprocess"] = {"converted": False, "helper": helper, "exists": helper in existing}
    return state


def _joined(kept: list[cst.Arg], extra: list[cst.Arg], trailing: cst.Comma | cst.MaybeSentinel) -> list[cst.Arg]:
    """``kept + extra`` separated by commas; the call's own trailing comma (and its layout) stays last."""
    multiline = isinstance(trailing, cst.Comma) and isinstance(trailing.whitespace_after, cst.ParenthesizedWhitespace)
    out = kept + extra
    for i, arg in enumerate(out[:-1]):
        if not isinstance(arg.comma, cst.Comma) or (i == len(kept) - 1 and not multiline) or i >= len(kept):
            out[i] = arg.with_changes(
                comma=trailing if multiline else cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    out[-1] = out[-1].with_changes(comma=trailing)
    return out


def _kwarg(name: str, value: cst.BaseExpression) -> cst.Arg:
    return cst.Arg(value, keyword=cst.Name(name),
                   equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))


def _is_stream_constant(value: cst.BaseExpression, allowed: frozenset[str]) -> bool:
    if m.matches(value, m.Name("None")):
        return True
    name = value.attr.value if isinstance(value, cst.Attribute) and \
        m.matches(value.value, m.Name("subprocess") | m.Attribute(value=m.Name("asyncio"), attr=m.Name("subprocess"))) \
        else ""
    return name in allowed


def _keyword_reason(function: str, kw: str, value: cst.BaseExpression) -> str:
    if kw == "shell":
        return "" if m.matches(value, m.Name("False")) else \
            "`shell=` other than a literal False: refused " \
            "(a shell command needs create_subprocess_shell and quoting review)"
    if kw == "timeout":
        return "`timeout=`: `subprocess.TimeoutExpired` carries the partial output, which `asyncio.wait_for` loses"
    if kw in ("stdout", "stderr"):
        if function == "check_output" and kw == "stdout":
            return "`stdout=` with check_output raises ValueError"
        allowed = _STREAM_CONSTANTS if function in ("run", "check_output") else _STREAM_CONSTANTS - {"PIPE"}
        if not _is_stream_constant(value, allowed):
            return f"`{kw}=` is not one of subprocess.{'/'.join(sorted(allowed))} or None (a file object?)"
        return ""
    if kw == "stdin":
        return "" if _is_stream_constant(value, frozenset({"DEVNULL"})) else \
            "`stdin=` other than subprocess.DEVNULL (a file object?)"
    if kw == "input" and function in ("call", "check_call"):
        return "`input=` is not an argument of call/check_call"
    if kw == "input" and function == "check_output" and m.matches(value, m.Name("None")):
        return "`input=None` means an empty stdin in check_output: pass `input=b\"\"` explicitly"
    if kw == "check" and function in ("check_output", "check_call"):
        return f"`check=` with {function} raises ValueError"
    if kw == "capture_output" and function in ("call", "check_call"):
        return f"`capture_output=` is not an argument of {function}"
    if kw in _PASSED or kw == "universal_newlines":
        return ""
    return f"`{kw}=` is not supported by the async helper"


def _argv_reason(argv: cst.BaseExpression, original: cst.Call, ctx: TargetContext) -> str:
    """Why ``argv`` may not be a list or tuple ("" when it visibly is)."""
    if isinstance(argv, (cst.List, cst.Tuple, cst.ListComp)):
        return ""
    if isinstance(argv, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
        return "a string argv (a command line): split it into a list, or use create_subprocess_shell by hand"
    if not isinstance(argv, cst.Name):
        return "the argv is not visibly a list or tuple (a string would be run as one program name)"
    fn = ctx.enclosing_function(original)
    if fn is None:
        return "not in a function"
    name = argv.value
    for param in (*fn.params.posonly_params, *fn.params.params, *fn.params.kwonly_params):
        if param.name.value == name:
            ann = param.annotation.annotation if param.annotation else None
            head = ann.value if isinstance(ann, cst.Subscript) else ann
            if m.matches(head, m.Name("list") | m.Name("tuple") | m.Name("List") | m.Name("Tuple")
                         | m.Attribute(attr=m.Name("List") | m.Name("Tuple"))):
                return ""
            return f"the argv `{name}` is a parameter not annotated `list[...]`/`tuple[...]` (it may be a string)"
    values = [a.value for a in m.findall(fn.body, m.Assign(targets=[m.AssignTarget(target=m.Name(name))]))]
    values += [a.value for a in m.findall(fn.body, m.AnnAssign(target=m.Name(name)))]
    binders = m.findall(fn.body, m.AssignTarget(target=m.Name(name)) | m.AnnAssign(target=m.Name(name))
                        | m.AugAssign(target=m.Name(name)) | m.AsName(name=m.Name(name))
                        | m.For(target=m.Name(name)) | m.NamedExpr(target=m.Name(name)))
    if values and len(binders) == len(values) and all(isinstance(v, (cst.List, cst.Tuple, cst.ListComp))
                                                      for v in values):
        return ""
    return f"the argv `{name}` is not only ever bound to a list or tuple literal in this function " \
           "(a string would be run as one program name)"


def _with_stdlib_import(module: cst.Module, name: str, ctx: TargetContext) -> cst.Module:
    """``import name`` in the sorted stdlib block of the leading imports (else left to the driver)."""
    for stmt in module.body:
        if m.matches(stmt, m.SimpleStatementLine(body=[m.Import(names=[m.ImportAlias(name=m.Name(name),
                                                                                      asname=None)])])):
            return module
    group = _stdlib_group(module.body)
    keys = [_line_key(module.body[i]) for i in range(*group)] if group else [None]
    position = _sorted_position(keys, ("import", name)) if group and None not in keys else None  # type: ignore[arg-type]
    if group is None or position is None:
        ctx.add_import(name)
        return module
    index = group[0] + position
    line = cst.SimpleStatementLine(body=[cst.Import(names=[cst.ImportAlias(name=cst.Name(name))])])
    body = list(module.body)
    if position == 0:
        line = line.with_changes(leading_lines=body[index].leading_lines)
        body[index] = body[index].with_changes(leading_lines=[])
    body.insert(index, line)
    return module.with_changes(body=body)


def _with_helper(module: cst.Module, helper: str) -> cst.Module:
    """The helper coroutine after the leading imports, two blank lines around it."""
    source = _HELPER_SOURCE if helper == HELPER else _HELPER_SOURCE.replace(HELPER, helper, 1)
    fn = cst.parse_statement(source.lstrip("\n"))
    body = list(module.body)
    index = 0
    for i, stmt in enumerate(body):
        if m.matches(stmt, m.SimpleStatementLine(body=[m.Import() | m.ImportFrom()])) or \
                i == 0 and m.matches(stmt, m.SimpleStatementLine(body=[m.Expr(m.SimpleString())])):
            index = i + 1
        elif not m.matches(stmt, m.If(test=m.Name("TYPE_CHECKING") | m.Attribute(attr=m.Name("TYPE_CHECKING")))):
            break
        else:
            index = i + 1
    blank = [cst.EmptyLine(), cst.EmptyLine()]
    body.insert(index, fn.with_changes(leading_lines=blank))
    if index + 1 < len(body):
        nxt = body[index + 1]
        own = list(nxt.leading_lines)
        blanks = len(own) - len(list(dropwhile_blank(own)))
        if blanks < 2:
            body[index + 1] = nxt.with_changes(leading_lines=[cst.EmptyLine()] * (2 - blanks) + own)
    return module.with_changes(body=body)


def dropwhile_blank(lines: list[cst.EmptyLine]) -> list[cst.EmptyLine]:
    """``lines`` without its leading blank (comment-less) lines."""
    i = 0
    while i < len(lines) and lines[i].comment is None:
        i += 1
    return lines[i:]


TARGET = SubprocessTarget()

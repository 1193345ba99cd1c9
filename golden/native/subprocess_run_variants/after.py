"""Build helpers."""

import asyncio
import locale
import logging
import subprocess


async def _run_subprocess(argv, *, check=False, capture_output=False, stdin=None, stdout=None, stderr=None,
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
            else data.decode(encoding, errors or "strict").replace("\r\n", "\n").replace("\r", "\n")
            for data in (output, error))
    if check and process.returncode:
        raise subprocess.CalledProcessError(process.returncode, argv, output=output, stderr=error)
    return subprocess.CompletedProcess(argv, process.returncode, output, error)


log = logging.getLogger(__name__)


async def build(path: str) -> int:
    result = await _run_subprocess(["make", "-C", path], capture_output=True, text=True)
    if result.returncode:
        log.warning("make failed: %s", result.stderr)
    await _run_subprocess(
        ["ls", "-l", path],
        check=True,
        cwd=path,
    )
    await _run_subprocess(("sync",), check=True)
    rc = (await _run_subprocess(["true"], stderr=subprocess.DEVNULL)).returncode
    return result.returncode + rc


async def version(tool: str) -> str:
    argv = [tool, "--version"]
    out = (await _run_subprocess(argv, text=True, stderr=subprocess.STDOUT, check=True, stdout=subprocess.PIPE)).stdout
    return out.splitlines()[0]


async def feed(data: bytes, args: list[str]) -> bytes:
    return (await _run_subprocess(["cat", *args], input=data, stdout=subprocess.PIPE, check=True)).stdout

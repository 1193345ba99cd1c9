import asyncio
import json
import locale
import os
import subprocess
from subprocess import CalledProcessError


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


async def git(*args: str) -> str:
    return (await _run_subprocess(["git", *args], text=True, check=True, stdout=subprocess.PIPE)).stdout.strip()


async def status() -> dict:
    try:
        branch = await git("rev-parse", "--abbrev-ref", "HEAD")
    except CalledProcessError as exc:
        return {"error": exc.returncode}
    proc = await _run_subprocess(["git", "status", "--porcelain"], capture_output=True, env={**os.environ, "LC_ALL": "C"})
    proc.check_returncode()
    return {"branch": branch, "dirty": bool(proc.stdout), "raw": json.dumps(proc.stdout.decode())}

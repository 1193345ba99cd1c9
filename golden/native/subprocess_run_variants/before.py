"""Build helpers."""

import logging
import subprocess

log = logging.getLogger(__name__)


async def build(path: str) -> int:
    result = subprocess.run(["make", "-C", path], capture_output=True, text=True)
    if result.returncode:
        log.warning("make failed: %s", result.stderr)
    subprocess.run(
        ["ls", "-l", path],
        check=True,
        cwd=path,
    )
    subprocess.check_call(("sync",))
    rc = subprocess.call(["true"], stderr=subprocess.DEVNULL)
    return result.returncode + rc


async def version(tool: str) -> str:
    argv = [tool, "--version"]
    out = subprocess.check_output(argv, text=True, stderr=subprocess.STDOUT)
    return out.splitlines()[0]


async def feed(data: bytes, args: list[str]) -> bytes:
    return subprocess.run(["cat", *args], input=data, stdout=subprocess.PIPE, check=True).stdout

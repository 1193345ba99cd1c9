import json
import os
from subprocess import CalledProcessError, check_output, run


def git(*args: str) -> str:
    return check_output(["git", *args], text=True).strip()


async def status() -> dict:
    try:
        branch = git("rev-parse", "--abbrev-ref", "HEAD")
    except CalledProcessError as exc:
        return {"error": exc.returncode}
    proc = run(["git", "status", "--porcelain"], capture_output=True, env={**os.environ, "LC_ALL": "C"})
    proc.check_returncode()
    return {"branch": branch, "dirty": bool(proc.stdout), "raw": json.dumps(proc.stdout.decode())}

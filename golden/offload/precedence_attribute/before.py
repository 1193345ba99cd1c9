import os
import subprocess


async def file_size(path: str) -> int:
    return os.stat(path).st_size


async def exit_code(cmd: list[str]) -> int:
    code = subprocess.run(cmd).returncode
    return code

import asyncio
import os
import subprocess


async def file_size(path: str) -> int:
    return (await asyncio.to_thread(os.stat, path)).st_size


async def exit_code(cmd: list[str]) -> int:
    code = (await asyncio.to_thread(subprocess.run, cmd)).returncode
    return code

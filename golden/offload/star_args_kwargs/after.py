import asyncio
import subprocess


async def run(*args: str, **kwargs: object) -> str:
    return await asyncio.to_thread(subprocess.check_output, *args, **kwargs)


async def run_list(cmd: list[str], options: dict) -> None:
    await asyncio.to_thread(subprocess.run, [*cmd, "--verbose"], **options, check=True)

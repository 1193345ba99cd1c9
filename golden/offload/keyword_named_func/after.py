import asyncio
import subprocess


def run_job(func: str, *, args: list[str]) -> None:
    subprocess.run([func, *args], check=True)


async def dispatch(name: str) -> None:
    await asyncio.to_thread(run_job, func=name, args=["--once"])

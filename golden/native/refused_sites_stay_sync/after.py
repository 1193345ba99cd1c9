import asyncio
import subprocess
import time


def build(args: list[str]) -> None:
    subprocess.run(*args)  # refused by the subprocess target: build stays sync


def release(args: list[str]) -> None:
    build(args)


def deploy(args: list[str]) -> None:
    time.sleep(1)
    subprocess.run(*args)  # refused: deploy would run it on the loop, so it stays sync


async def handler(args: list[str]) -> None:
    await asyncio.to_thread(release, args)
    await asyncio.to_thread(deploy, args)

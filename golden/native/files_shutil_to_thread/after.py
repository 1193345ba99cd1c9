import asyncio
import shutil


async def reset(workdir: str, template: str) -> None:
    await asyncio.to_thread(shutil.rmtree, workdir, ignore_errors=True)
    await asyncio.to_thread(shutil.copytree, template, workdir, dirs_exist_ok=True)

import shutil


async def reset(workdir: str, template: str) -> None:
    shutil.rmtree(workdir, ignore_errors=True)
    shutil.copytree(template, workdir, dirs_exist_ok=True)

import subprocess


async def run(*args: str, **kwargs: object) -> str:
    return subprocess.check_output(*args, **kwargs)


async def run_list(cmd: list[str], options: dict) -> None:
    subprocess.run([*cmd, "--verbose"], **options, check=True)

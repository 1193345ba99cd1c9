import subprocess
import sys


async def shell(cmd: str) -> int:
    return subprocess.run(cmd, shell=True).returncode


async def string_argv() -> str:
    return subprocess.check_output("uname -a", text=True)


async def with_timeout() -> None:
    subprocess.run(["sleep", "10"], timeout=1)


async def to_log(argv: list[str]) -> None:
    with open("out.log", "w") as f:
        subprocess.run(argv, stdout=f)


async def unknown(cmd) -> None:
    subprocess.run(cmd, check=True)


async def popen() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()

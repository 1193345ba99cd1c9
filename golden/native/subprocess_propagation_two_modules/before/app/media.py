import subprocess
import sys


def probe(path: str) -> str:
    completed = subprocess.run(
        [sys.executable, "-c", "import sys; print(sys.argv[1])", path],
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout.strip()

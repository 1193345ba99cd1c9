import os


async def describe(directory: str) -> list[str]:
    lines = []
    for name in os.listdir(directory):
        lines.append(f"{name}: {os.path.getsize(os.path.join(directory, name))} bytes")
    return lines

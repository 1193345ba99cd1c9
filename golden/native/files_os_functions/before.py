import os


async def rotate(path: str) -> list[str]:
    if os.path.isfile(path) and os.path.getsize(path) > 1024:
        os.replace(path, path + ".1")
    os.makedirs("logs", exist_ok=True)
    os.remove(path + ".tmp")
    return os.listdir("logs")

import os


def _load_sync() -> None:
    """An existing helper of the module: the new ones must not shadow it."""


async def load(path: str, events) -> str:
    with open(path) as f:
        a = f.read()
    await events.emit(a)
    with open(os.path.join(path, ".bak")) as f:
        b = f.read()
    return a + b

import pickle
from pathlib import Path


async def roundtrip(path: Path, obj: object) -> object:
    with path.open("wb") as f:
        pickle.dump(obj, f, protocol=4)
    with path.open("rb") as f:
        return pickle.load(f)

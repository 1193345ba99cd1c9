from pathlib import Path


async def store(root: Path, name: str, payload: bytes) -> int:
    root.mkdir(parents=True, exist_ok=True)
    (root / "tmp").mkdir()
    target = root / name
    if target.exists() and not target.is_dir():
        target.unlink()
    target.write_bytes(payload)
    (root / "latest").write_text(name, encoding="utf-8")
    return target.stat().st_size

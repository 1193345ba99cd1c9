import shutil


def archive_receipt(path: str) -> None:
    shutil.copy(path, "/archive/")

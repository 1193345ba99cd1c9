def main() -> None:
    from ..codemods import catalog  # noqa: F401
    print("ok")

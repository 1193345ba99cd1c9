async def copy_header(src: str, dst: str) -> str:
    with open(src) as f, open(dst, "a") as out:
        first = f.readline()
        rest = f.read().strip()
        out.write(first)
        out.writelines([rest, "\n"])
        out.flush()
        return f"{f.name}: {len(rest)}"

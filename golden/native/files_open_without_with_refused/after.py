async def first_line(path: str) -> str:
    f = open(path)
    line = f.readline()
    f.close()
    return line

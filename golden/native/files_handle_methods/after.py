import aiofiles

async def copy_header(src: str, dst: str) -> str:
    async with aiofiles.open(src) as f, aiofiles.open(dst, "a") as out:
        first = await f.readline()
        rest = (await f.read()).strip()
        await out.write(first)
        await out.writelines([rest, "\n"])
        await out.flush()
        return f"{f.name}: {len(rest)}"

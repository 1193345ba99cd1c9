import aiofiles.os


async def rotate(path: str) -> list[str]:
    if await aiofiles.os.path.isfile(path) and await aiofiles.os.path.getsize(path) > 1024:
        await aiofiles.os.replace(path, path + ".1")
    await aiofiles.os.makedirs("logs", exist_ok=True)
    await aiofiles.os.remove(path + ".tmp")
    return await aiofiles.os.listdir("logs")

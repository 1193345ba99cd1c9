import shutil
import time
from asyncio import sleep as async_sleep, to_thread


async def cleanup(directory: str) -> None:
    await to_thread(shutil.rmtree, directory)
    await async_sleep(1)
    await to_thread(print, "done")
    await async_sleep(0)

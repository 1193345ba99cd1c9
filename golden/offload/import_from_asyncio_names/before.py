import shutil
import time
from asyncio import sleep as async_sleep, to_thread


async def cleanup(directory: str) -> None:
    shutil.rmtree(directory)
    time.sleep(1)
    await to_thread(print, "done")
    await async_sleep(0)

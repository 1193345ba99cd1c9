import time


async def poll(job) -> None:
    while not job.done:
        time.sleep(0.5)  # give the worker a moment

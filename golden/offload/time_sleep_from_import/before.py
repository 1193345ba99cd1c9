from time import sleep


async def backoff(attempt: int) -> None:
    sleep(2 ** attempt)

import asyncio as aio
import time

import requests


async def crawl(urls: list[str]) -> list[int]:
    codes = []
    for url in urls:
        codes.append(requests.head(url).status_code)
        time.sleep(0.1)
    await aio.sleep(0)
    return codes

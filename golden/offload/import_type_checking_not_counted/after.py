import asyncio
from typing import TYPE_CHECKING

import requests

if TYPE_CHECKING:
    import os


async def status(url: str) -> int:
    return (await asyncio.to_thread(requests.head, url)).status_code

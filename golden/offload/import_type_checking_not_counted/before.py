from typing import TYPE_CHECKING

import requests

if TYPE_CHECKING:
    import os


async def status(url: str) -> int:
    return requests.head(url).status_code

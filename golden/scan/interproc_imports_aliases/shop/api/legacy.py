from shop.utils import *


async def old_endpoint() -> str:
    throttle()  # expect: AM150 via=throttle
    return slug("Old Endpoint")  # ok: pure helper

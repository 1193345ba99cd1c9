import asyncio
from concurrent.futures import ThreadPoolExecutor

_executor = ThreadPoolExecutor(max_workers=5)


class ThreadRepository:
    async def create(self, item: dict) -> dict:
        loop = asyncio.get_event_loop()
        await loop.run_in_executor(_executor, lambda: self.container.create_item(body=item))
        return item

import asyncio
import time
from typing import Final


class Client:
    async def ping(self) -> None:
        return None


class Logger:
    @property
    def client(self) -> Client:
        time.sleep(0.1)
        return Client()

    async def check(self) -> None:
        # the finding is the property read `self.client`, not a call: its position must be exact
        failure: Final = await self.client.ping()  # expect: AM150 via=Logger.client
        client: Final = self.client  # expect: AM150 via=Logger.client
        return failure, client

    async def offloaded(self) -> None:
        client: Final = await asyncio.to_thread(lambda: self.client)  # ok: read in a worker thread
        await (await asyncio.to_thread(lambda: self.client)).ping()  # ok: read in a worker thread
        return client

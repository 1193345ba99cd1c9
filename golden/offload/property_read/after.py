import asyncio
import time
from typing import Final


class Client:
    async def ping(self) -> None:
        return None

    def close(self) -> None:
        return None


class Logger:
    @property
    def client(self) -> Client:
        time.sleep(0.1)
        return Client()

    async def check(self) -> None:
        failure: Final = await (await asyncio.to_thread(lambda: self.client)).ping()
        client: Final = await asyncio.to_thread(lambda: self.client)
        return failure, client

    async def sync_method_on_it(self) -> None:
        await asyncio.to_thread(lambda: self.client.close())
        return None

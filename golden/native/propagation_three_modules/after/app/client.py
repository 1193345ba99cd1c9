"""A client with backoff: requests + time.sleep."""

import asyncio
import httpx


class Client:
    def __init__(self, base: str) -> None:
        self.base = base

    async def fetch(self, path: str) -> dict:
        for _ in range(3):
            async with httpx.AsyncClient(follow_redirects=True) as http_client:
                resp = await http_client.get(f"{self.base}{path}", timeout=5)
            if resp.status_code < 500:
                resp.raise_for_status()
                return resp.json()
            await asyncio.sleep(0.1)
        raise RuntimeError("unavailable")


client = Client("http://example.test")

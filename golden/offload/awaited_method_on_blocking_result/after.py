import httpx
import requests
import asyncio


def make_client() -> httpx.AsyncClient:
    token = requests.get("https://auth.example.com/token", timeout=5).text
    return httpx.AsyncClient(headers={"Authorization": token})


async def shutdown() -> None:
    await (await asyncio.to_thread(make_client)).aclose()

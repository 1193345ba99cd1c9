import requests
import asyncio


async def weather(city: str) -> dict:
    return await asyncio.to_thread(lambda: requests.get(f"https://wttr.in/{city}", params={"format": "j1"}).json())


async def status(url: str) -> str:
    text = (await asyncio.to_thread(requests.get, url)).text.strip()
    return text

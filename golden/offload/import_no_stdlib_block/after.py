import requests

from app.models import Item
import asyncio


async def create(item: Item) -> int:
    return (await asyncio.to_thread(requests.post, "https://api.example.com/items", json=item.dict())).status_code

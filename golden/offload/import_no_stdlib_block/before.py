import requests

from app.models import Item


async def create(item: Item) -> int:
    return requests.post("https://api.example.com/items", json=item.dict()).status_code

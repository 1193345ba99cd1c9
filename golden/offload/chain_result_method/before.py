import requests


async def weather(city: str) -> dict:
    return requests.get(f"https://wttr.in/{city}", params={"format": "j1"}).json()


async def status(url: str) -> str:
    text = requests.get(url).text.strip()
    return text

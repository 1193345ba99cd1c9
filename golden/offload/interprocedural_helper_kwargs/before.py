import requests


def notify(channel: str, *, text: str, retries: int = 3) -> None:
    for _ in range(retries):
        if requests.post(channel, json={"text": text}, timeout=2).ok:
            return


async def on_signup(email: str) -> None:
    notify("https://hooks.example.com/signup", text=f"new user {email}", retries=1)

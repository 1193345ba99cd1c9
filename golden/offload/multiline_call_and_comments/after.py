import requests
import asyncio

# Module comment: untouched.


async def create_issue(repo: str, title: str, body: str) -> int:
    # leading comment stays above the statement
    response = await asyncio.to_thread(  # the API wants JSON
        requests.post,
        f"https://api.example.com/repos/{repo}/issues",
        json={"title": title, "body": body},
        timeout=10,
    )
    return response.status_code  # trailing comment stays too


async def ping(url: str) -> None:
    await asyncio.to_thread(requests.get, url, timeout=1)  # fire and forget

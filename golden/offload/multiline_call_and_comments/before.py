import requests

# Module comment: untouched.


async def create_issue(repo: str, title: str, body: str) -> int:
    # leading comment stays above the statement
    response = requests.post(  # the API wants JSON
        f"https://api.example.com/repos/{repo}/issues",
        json={"title": title, "body": body},
        timeout=10,
    )
    return response.status_code  # trailing comment stays too


async def ping(url: str) -> None:
    requests.get(url, timeout=1)  # fire and forget

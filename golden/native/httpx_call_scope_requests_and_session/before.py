import requests


def fetch_json(url: str) -> dict:
    resp = requests.get(url, params={"q": 1}, timeout=3, allow_redirects=False)
    resp.raise_for_status()
    return resp.json()


def post_all(urls: list[str]) -> int:
    with requests.Session() as session:
        total = 0
        for url in urls:
            total += session.post(url, json={"x": 1}, timeout=2).status_code
    return total


async def handler(url: str) -> dict:
    try:
        data = fetch_json(url)
    except (requests.ConnectionError, requests.Timeout):
        return {}
    data["n"] = post_all([url])
    return data

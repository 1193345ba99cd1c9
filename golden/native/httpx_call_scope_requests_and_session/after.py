import httpx


async def fetch_json(url: str) -> dict:
    async with httpx.AsyncClient(follow_redirects=True) as http_client:
        resp = await http_client.get(url, params={"q": 1}, timeout=3, follow_redirects=False)
    resp.raise_for_status()
    return resp.json()


async def post_all(urls: list[str]) -> int:
    async with httpx.AsyncClient(follow_redirects=True, timeout=None) as session:
        total = 0
        for url in urls:
            total += (await session.post(url, json={"x": 1}, timeout=2)).status_code
    return total


async def handler(url: str) -> dict:
    try:
        data = await fetch_json(url)
    except (httpx.NetworkError, httpx.TimeoutException):
        return {}
    data["n"] = await post_all([url])
    return data

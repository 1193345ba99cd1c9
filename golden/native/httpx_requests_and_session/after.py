import asyncio
import httpx

_http_ssl_context = httpx.create_ssl_context()  # once, at import: loading CA certificates takes tens of ms
_http_client: "httpx.AsyncClient | None" = None  # the shared client: see get_http_client()
_http_client_loop: "asyncio.AbstractEventLoop | None" = None


def get_http_client() -> httpx.AsyncClient:
    """The shared HTTP client (one connection pool), created on first use in each event loop and closed by
    `close_http_client()`. Like requests, it follows redirects and has no default timeout."""
    global _http_client, _http_client_loop
    loop = asyncio.get_running_loop()
    if _http_client is None or _http_client_loop is not loop:  # a client must not be reused on another loop
        _http_client = httpx.AsyncClient(follow_redirects=True, timeout=None, verify=_http_ssl_context)
        _http_client_loop = loop
    return _http_client


async def close_http_client() -> None:
    global _http_client, _http_client_loop
    client, _http_client, _http_client_loop = _http_client, None, None
    if client is not None:
        await client.aclose()


async def fetch_json(url: str) -> dict:
    resp = await get_http_client().get(url, params={"q": 1}, timeout=3, follow_redirects=False)
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

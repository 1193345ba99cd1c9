"""A service calling another over HTTP."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
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


BASE = "https://example.org"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    print("starting")
    get_http_client()  # created before the first request
    yield
    print("stopping")
    await close_http_client()


app = FastAPI(lifespan=lifespan)


async def lookup(item: str) -> dict:
    resp = await get_http_client().get(f"{BASE}/items/{item}", headers={"accept": "application/json"})
    resp.raise_for_status()
    return resp.json()


@app.post("/items/{item}")
async def forward(item: str) -> int:
    data = await lookup(item)
    try:
        return (await get_http_client().post(f"{BASE}/copy", json=data, timeout=5, follow_redirects=False)).status_code
    except httpx.TimeoutException:
        return 504

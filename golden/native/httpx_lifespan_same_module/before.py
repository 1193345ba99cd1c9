"""A service calling another over HTTP."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import requests
from fastapi import FastAPI

BASE = "https://example.org"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    print("starting")
    yield
    print("stopping")


app = FastAPI(lifespan=lifespan)


def lookup(item: str) -> dict:
    resp = requests.get(f"{BASE}/items/{item}", headers={"accept": "application/json"})
    resp.raise_for_status()
    return resp.json()


@app.post("/items/{item}")
async def forward(item: str) -> int:
    data = lookup(item)
    try:
        return requests.post(f"{BASE}/copy", json=data, timeout=5, allow_redirects=False).status_code
    except requests.Timeout:
        return 504

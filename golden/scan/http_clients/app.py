import asyncio
import urllib.request
from urllib.parse import urlencode
from urllib.request import urlopen

import httpx
import requests
import urllib3
from fastapi import FastAPI

app = FastAPI()
API = "https://api.example.com"
http = requests.Session()
pool = urllib3.PoolManager(num_pools=4)


@app.get("/weather")
async def weather(city: str) -> dict:
    query = urlencode({"q": city})  # ok: pure string formatting
    resp = requests.get(f"{API}/weather?{query}", timeout=5)  # expect: AM100
    resp.raise_for_status()  # ok: Response methods read the downloaded body
    return resp.json()  # ok: body already downloaded


@app.post("/hooks")
async def forward_hook(payload: dict) -> int:
    r = http.post(f"{API}/hooks", json=payload, timeout=5)  # expect: AM100
    http.headers.update({"X-Trace": "1"})  # ok: local dict update
    prepared = requests.Request("GET", f"{API}/x").prepare()  # ok: builds a request, sends nothing
    return r.status_code


@app.get("/status")
async def status() -> dict:
    with requests.Session() as s:
        s.headers["Accept"] = "application/json"
        a = s.get(f"{API}/a", timeout=5)  # expect: AM100
    legacy = requests.session()
    legacy.put(f"{API}/legacy", data=b"", timeout=5)  # expect: AM100
    with httpx.Client(timeout=3) as client:
        b = client.get(f"{API}/b")  # expect: AM100
    c = httpx.post(f"{API}/c", json={})  # expect: AM100
    d = urllib.request.urlopen(f"{API}/d", timeout=5).read()  # expect: AM100
    e = urlopen(f"{API}/e", timeout=5)  # expect: AM100
    f = pool.request("GET", f"{API}/f")  # expect: AM100
    return {"a": a.json(), "b": b.json(), "c": c.json(), "d": d, "e": e.status, "f": f.status}


@app.get("/status/async")
async def status_async() -> dict:
    async with httpx.AsyncClient(timeout=3) as client:
        a = await client.get(f"{API}/a")  # ok: awaited async client
    b = await httpx.AsyncClient().get(f"{API}/b")  # ok: awaited async client
    c = await asyncio.to_thread(requests.get, f"{API}/c", timeout=5)  # ok: runs in a worker thread
    return {"a": a.json(), "b": b.json(), "c": c.json()}

from fastapi import FastAPI

from app.media import probe

app = FastAPI()


@app.post("/probe")
async def probe_route(path: str) -> dict:
    return {"probe": await probe(path)}

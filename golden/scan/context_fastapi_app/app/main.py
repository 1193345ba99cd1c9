import json
import time
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request, WebSocket, WebSocketDisconnect

from app.ml import load_model, load_settings


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.model = load_model("model.bin")  # expect: AM120 via=load_model
    with open("routes.json") as f:  # expect: AM120
        app.state.routes = json.load(f)  # expect: AM132
    yield
    time.sleep(0.5)  # expect: AM150


app = FastAPI(lifespan=lifespan)


@app.middleware("http")
async def access_log(request: Request, call_next):
    response = await call_next(request)
    with open("access.log", "a") as log:  # expect: AM120
        log.write(f"{request.url.path} {response.status_code}\n")  # expect: AM121
    return response


@app.get("/sync")
def sync_route() -> dict:
    time.sleep(1)  # ok: sync route runs in the threadpool
    return {"model": str(load_model("model.bin"))}  # ok: sync route


@app.get("/async")
async def async_route(settings: dict = Depends(load_settings)) -> dict:  # ok: FastAPI runs sync dependencies in the threadpool
    return {"model": str(load_model("model.bin")), "settings": settings}  # expect: AM120 via=load_model


@app.websocket("/ws")
async def ws_endpoint(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            text = await websocket.receive_text()  # ok: awaited
            time.sleep(0.1)  # expect: AM150
            await websocket.send_text(text.upper())
    except WebSocketDisconnect:
        pass


@app.on_event("startup")
async def warm_up() -> None:
    load_model("model.bin")  # expect: AM120 via=load_model


@app.on_event("shutdown")
def flush() -> None:
    time.sleep(0.1)  # ok: sync handler

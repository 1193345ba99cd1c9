from fastapi import FastAPI

from app import store

app = FastAPI()


@app.get("/{path}")
async def visit(path: str) -> dict:
    return {"path": path, "visits": store.record_visit(path)}

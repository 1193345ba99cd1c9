from fastapi import FastAPI

from app.service import load_name, load_user

app = FastAPI()


@app.get("/users/{uid}")
async def get_user(uid: int) -> dict:
    return await load_user(uid)


@app.get("/users/{uid}/name")
async def get_name(uid: int) -> str:
    return (await load_name(uid)).title()

from app.client import client


async def load_user(uid: int) -> dict:
    return await client.fetch(f"/users/{uid}")


async def load_name(uid: int) -> str:
    return (await load_user(uid))["name"]

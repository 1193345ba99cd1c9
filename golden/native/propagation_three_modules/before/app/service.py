from app.client import client


def load_user(uid: int) -> dict:
    return client.fetch(f"/users/{uid}")


def load_name(uid: int) -> str:
    return load_user(uid)["name"]

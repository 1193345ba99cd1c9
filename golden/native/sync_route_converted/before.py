import time

from fastapi import APIRouter

router = APIRouter()


def settle() -> None:
    time.sleep(0.05)


@router.post("/jobs")
def create_job() -> dict:
    settle()
    return {"ok": True}


def cli_main() -> None:
    settle()

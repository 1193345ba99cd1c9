import asyncio

from fastapi import APIRouter

router = APIRouter()


async def settle() -> None:
    await asyncio.sleep(0.05)


@router.post("/jobs")
async def create_job() -> dict:
    await settle()
    return {"ok": True}


async def cli_main() -> None:
    await settle()

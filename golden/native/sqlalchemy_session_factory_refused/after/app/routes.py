from fastapi import APIRouter

from .db import Session
from .models import count_items

router = APIRouter()


@router.get("/count")
async def count() -> int:
    return count_items()


@router.get("/health")
def health() -> bool:
    Session.commit()
    return True

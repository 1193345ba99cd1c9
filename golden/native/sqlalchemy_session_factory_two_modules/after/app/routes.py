from fastapi import APIRouter

from .models import Notes

router = APIRouter()


@router.get("/notes/{id}")
async def get_note(id: str):
    return await Notes.get_note(id)


@router.post("/notes/{id}")
async def create_note(id: str, title: str):
    return await Notes.insert(id, title)

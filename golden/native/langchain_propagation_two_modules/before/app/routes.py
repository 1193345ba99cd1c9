from fastapi import APIRouter

from app import agent

router = APIRouter()


@router.post("/classify")
async def classify(text: str) -> dict:
    label = agent.classify(text)
    return {"label": label, "reply": agent.stream_reply(text) if label == "ham" else ""}

from fastapi import FastAPI
from sqlmodel import Session, select

from .models import Message

app = FastAPI()


@app.get("/messages")
async def list_messages(session: Session) -> list[Message]:
    messages = session.exec(select(Message).order_by(Message.id)).all()
    return messages


@app.get("/messages/{conversation_id}/latest")
async def latest(conversation_id: int, session: Session) -> Message | None:
    return session.exec(
        select(Message)
        .where(Message.conversation_id == conversation_id)  # newest first
        .order_by(Message.id.desc())
    ).first()

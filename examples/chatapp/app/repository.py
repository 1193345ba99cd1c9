"""Data access for messages, used by the service layer and the chat socket."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from app.db import engine
from app.models import Conversation, Message


class MessageRepository:
    """Each method opens its own short-lived session."""

    @staticmethod
    def get_history(conversation_id: int, limit: int = 50) -> list[Message]:
        """Return the last ``limit`` messages of a conversation, oldest first."""
        with Session(engine) as session:
            statement = (
                select(Message)
                .where(Message.conversation_id == conversation_id)
                .order_by(Message.id.desc())
                .limit(limit)
            )
            return list(reversed(session.exec(statement).all()))

    @classmethod
    def create(cls, conversation_id: int, role: str, content: str) -> Message:
        """Insert one message and return it with its id."""
        with Session(engine) as session:
            message = Message(conversation_id=conversation_id, role=role, content=content)
            session.add(message)
            session.commit()
            session.refresh(message)
            return message

    @staticmethod
    def exists(conversation_id: int) -> bool:
        with Session(engine) as session:
            return session.get(Conversation, conversation_id) is not None

    @staticmethod
    def count_by_role() -> dict[str, int]:
        with Session(engine) as session:
            rows = session.exec(select(Message.role, func.count()).group_by(Message.role)).all()
            return {role: count for role, count in rows}

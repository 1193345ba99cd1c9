"""Database tables and API schemas."""

from datetime import datetime, timezone

from sqlmodel import Field, Relationship, SQLModel


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class ConversationBase(SQLModel):
    title: str = Field(default="New conversation", max_length=200)


class Conversation(ConversationBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow)

    messages: list["Message"] = Relationship(
        back_populates="conversation",
        sa_relationship_kwargs={"order_by": "Message.id", "cascade": "all, delete-orphan"},
    )


class Message(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    role: str = Field(max_length=16)  # "user" | "assistant"
    content: str
    created_at: datetime = Field(default_factory=utcnow)

    conversation: Conversation | None = Relationship(back_populates="messages")


class ConversationCreate(ConversationBase):
    pass


class ConversationPublic(ConversationBase):
    id: int
    created_at: datetime


class MessageCreate(SQLModel):
    content: str = Field(min_length=1, max_length=4000)


class MessagePublic(SQLModel):
    id: int
    role: str
    content: str
    created_at: datetime


class ChatReply(SQLModel):
    user: MessagePublic
    assistant: MessagePublic
    cached: bool = False


class ArchiveInfo(SQLModel):
    conversation_id: int
    bucket: str
    key: str
    size: int

"""HTTP and WebSocket API of the chat service."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request, Response, WebSocket, WebSocketDisconnect, status
from sqlalchemy import func
from sqlmodel import Session, select

from app import __version__
from app.cache import get_cached, redis_client, reply_cache_key, set_cached
from app.config import settings
from app.db import SessionDep, init_db
from app.models import (
    ArchiveInfo,
    ChatReply,
    Conversation,
    ConversationCreate,
    ConversationPublic,
    Message,
    MessageCreate,
    MessagePublic,
)
from app.repository import MessageRepository
from app.services import build_prompt, chat_turn, generate_reply
from app.storage import download_transcript, s3, transcripts, upload_transcript

logger = logging.getLogger("chatapp")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    init_db()
    settings.transcript_dir.mkdir(parents=True, exist_ok=True)
    try:
        s3.create_bucket(Bucket=settings.s3_bucket)
    except (s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
        pass
    logger.info("chatapp %s started", __version__)
    yield
    logger.info("chatapp stopping")


app = FastAPI(title="chatapp", version=__version__, lifespan=lifespan)


async def rate_limit(request: Request) -> None:
    """Fixed-window limit per client address, shared across workers via Redis."""
    key = f"ratelimit:{request.client.host if request.client else 'unknown'}"
    count = redis_client.incr(key)
    if count == 1:
        redis_client.expire(key, 60)
    if count > settings.rate_limit_per_minute:
        raise HTTPException(status_code=status.HTTP_429_TOO_MANY_REQUESTS, detail="Slow down")


def get_conversation_or_404(session: Session, conversation_id: int) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise HTTPException(status_code=404, detail="Conversation not found")
    return conversation


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@app.post("/conversations", response_model=ConversationPublic, status_code=201)
async def create_conversation(body: ConversationCreate, session: SessionDep) -> Conversation:
    conversation = Conversation.model_validate(body)
    session.add(conversation)
    session.commit()
    session.refresh(conversation)
    return conversation


@app.get("/conversations/{conversation_id}/messages", response_model=list[MessagePublic])
async def list_messages(conversation_id: int, session: SessionDep, limit: int = 100) -> list[Message]:
    get_conversation_or_404(session, conversation_id)
    statement = (
        select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id).limit(limit)
    )
    return list(session.exec(statement).all())


@app.post(
    "/conversations/{conversation_id}/messages",
    response_model=ChatReply,
    status_code=201,
    dependencies=[Depends(rate_limit)],
)
async def post_message(conversation_id: int, body: MessageCreate, session: SessionDep) -> ChatReply:
    get_conversation_or_404(session, conversation_id)
    user_msg = MessageRepository.create(conversation_id, "user", body.content)
    history = MessageRepository.get_history(conversation_id)

    key = reply_cache_key(build_prompt(history))
    reply = get_cached(key)
    cached = reply is not None
    if reply is None:
        reply = generate_reply(history)
        set_cached(key, reply)

    assistant_msg = MessageRepository.create(conversation_id, "assistant", reply)
    transcripts.append(conversation_id, "user", body.content)
    transcripts.append(conversation_id, "assistant", reply)
    redis_client.incr("stats:messages_posted")
    return ChatReply(
        user=MessagePublic.model_validate(user_msg),
        assistant=MessagePublic.model_validate(assistant_msg),
        cached=cached,
    )


@app.get("/conversations/{conversation_id}/transcript")
async def get_transcript(conversation_id: int) -> dict[str, Any]:
    path = transcripts._path(conversation_id)
    if not path.exists():
        raise HTTPException(status_code=404, detail="No transcript for this conversation")
    with open(path) as f:
        return json.load(f)


@app.post("/conversations/{conversation_id}/archive", response_model=ArchiveInfo, status_code=201)
async def archive_conversation(conversation_id: int) -> ArchiveInfo:
    body = transcripts.read_bytes(conversation_id)
    if body is None:
        raise HTTPException(status_code=404, detail="No transcript for this conversation")
    key = upload_transcript(conversation_id, body)
    return ArchiveInfo(conversation_id=conversation_id, bucket=settings.s3_bucket, key=key, size=len(body))


@app.get("/conversations/{conversation_id}/archive")
async def get_archive(conversation_id: int) -> Response:
    try:
        body = download_transcript(conversation_id)
    except s3.exceptions.NoSuchKey:
        raise HTTPException(status_code=404, detail="Conversation is not archived") from None
    return Response(content=body, media_type="application/json")


@app.websocket("/ws/chat/{conversation_id}")
async def chat_socket(websocket: WebSocket, conversation_id: int) -> None:
    if not MessageRepository.exists(conversation_id):
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION)
        return
    await websocket.accept()
    try:
        while True:
            payload = await websocket.receive_json()
            content = str(payload.get("content", "")).strip()
            if not content:
                await websocket.send_json({"error": "empty message"})
                continue
            user_msg, assistant_msg, cached = chat_turn(conversation_id, content)
            reply = ChatReply(
                user=MessagePublic.model_validate(user_msg),
                assistant=MessagePublic.model_validate(assistant_msg),
                cached=cached,
            )
            await websocket.send_json(reply.model_dump(mode="json"))
    except WebSocketDisconnect:
        logger.info("chat socket for conversation %d closed", conversation_id)


@app.get("/stats")
def stats(session: SessionDep) -> dict[str, Any]:
    """Plain ``def``: FastAPI runs it in its threadpool, so blocking here is fine."""
    conversations = session.exec(select(func.count()).select_from(Conversation)).one()
    transcript_dir = settings.transcript_dir
    transcript_files = len(os.listdir(transcript_dir)) if os.path.isdir(transcript_dir) else 0
    return {
        "conversations": conversations,
        "messages_by_role": MessageRepository.count_by_role(),
        "messages_posted": int(redis_client.get("stats:messages_posted") or 0),
        "transcript_files": transcript_files,
    }

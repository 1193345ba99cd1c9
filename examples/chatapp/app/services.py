"""Business logic shared by the HTTP routes and the chat socket."""

from __future__ import annotations

from app.cache import get_cached, reply_cache_key, set_cached
from app.llm import client
from app.models import Message
from app.repository import MessageRepository
from app.storage import transcripts

SYSTEM_PROMPT = "You are a concise, friendly assistant."


def build_prompt(history: list[Message]) -> str:
    lines = [f"system: {SYSTEM_PROMPT}"]
    lines += [f"{m.role}: {m.content}" for m in history]
    lines.append("assistant:")
    return "\n".join(lines)


def generate_reply(history: list[Message]) -> str:
    """Ask the model for the next assistant message."""
    return client.complete(build_prompt(history))


def cached_reply(history: list[Message]) -> tuple[str, bool]:
    """Return (reply, was_cached); identical prompts are answered from Redis."""
    key = reply_cache_key(build_prompt(history))
    hit = get_cached(key)
    if hit is not None:
        return hit, True
    reply = generate_reply(history)
    set_cached(key, reply)
    return reply, False


def chat_turn(conversation_id: int, content: str) -> tuple[Message, Message, bool]:
    """Store the user message, get a reply, store it and log both to the transcript."""
    user_msg = MessageRepository.create(conversation_id, "user", content)
    history = MessageRepository.get_history(conversation_id)
    reply, cached = cached_reply(history)
    assistant_msg = MessageRepository.create(conversation_id, "assistant", reply)
    transcripts.append(conversation_id, "user", content)
    transcripts.append(conversation_id, "assistant", reply)
    return user_msg, assistant_msg, cached

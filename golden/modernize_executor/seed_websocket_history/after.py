import asyncio

from .models import Message


async def ws_chat(websocket, conversation_id: int) -> None:
    # Run sync DB call without blocking
    history = await asyncio.to_thread(Message.get_history, conversation_id)
    reply = "".join(m.content for m in history)
    await asyncio.to_thread(Message.create, conversation_id, "assistant", reply)

import asyncio

from .models import Message


async def ws_chat(websocket, conversation_id: int) -> None:
    loop = asyncio.get_event_loop()

    # Run sync DB call without blocking
    history = await loop.run_in_executor(None, Message.get_history, conversation_id)
    reply = "".join(m.content for m in history)
    await loop.run_in_executor(None, Message.create, conversation_id, "assistant", reply)

import asyncio
import sqlite3


class MessageRepository:
    @staticmethod
    def get_history(conversation_id: int) -> list[tuple]:
        conn = sqlite3.connect("chat.db")
        return conn.execute("SELECT * FROM messages WHERE cid = ?", (conversation_id,)).fetchall()


async def chat_turn(cid: int, text: str) -> str:
    history = await asyncio.to_thread(MessageRepository.get_history, cid)
    return f"{len(history)} messages before {text!r}"

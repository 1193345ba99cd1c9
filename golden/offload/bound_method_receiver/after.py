from sqlalchemy.orm import Session
import asyncio


class ConversationService:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def save(self, conversation) -> None:
        self.session.add(conversation)
        await asyncio.to_thread(self.session.commit)
        await asyncio.to_thread(self.session.refresh, conversation)
        await self.publish(conversation)

    async def publish(self, conversation) -> None:
        print("saved", conversation)

from sqlalchemy.orm import Session


class ConversationService:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def save(self, conversation) -> None:
        self.session.add(conversation)
        self.session.commit()
        self.session.refresh(conversation)
        await self.publish(conversation)

    async def publish(self, conversation) -> None:
        print("saved", conversation)

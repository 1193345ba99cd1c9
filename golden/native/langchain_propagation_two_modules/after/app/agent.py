from langchain_anthropic import ChatAnthropic

model = ChatAnthropic(model="claude-haiku-4-5")


async def classify(text: str) -> str:
    verdict = await model.ainvoke(f"Spam or ham? {text}")
    return verdict.content.strip().lower()


async def stream_reply(text: str) -> str:
    parts = []
    async for chunk in model.astream(text):
        parts.append(chunk.content)
    return "".join(parts)

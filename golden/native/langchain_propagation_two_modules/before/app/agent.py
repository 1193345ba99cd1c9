from langchain_anthropic import ChatAnthropic

model = ChatAnthropic(model="claude-haiku-4-5")


def classify(text: str) -> str:
    verdict = model.invoke(f"Spam or ham? {text}")
    return verdict.content.strip().lower()


def stream_reply(text: str) -> str:
    parts = []
    for chunk in model.stream(text):
        parts.append(chunk.content)
    return "".join(parts)

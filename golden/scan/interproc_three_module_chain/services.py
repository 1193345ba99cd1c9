from llm import client


def build_prompt(history: list[str], message: str) -> str:
    return "\n".join(history + [message])


def generate_reply(history: list[str], message: str) -> str:
    return client.complete(build_prompt(history, message))

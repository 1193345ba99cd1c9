import threading

from anthropic import Anthropic
from openai import OpenAI

claude = Anthropic()
oai = OpenAI()
other = OpenAI()


def warm_up() -> None:
    claude.models.list()


def start() -> None:
    threading.Thread(target=warm_up).start()


async def ask(prompt: str) -> str:
    msg = claude.messages.create(model="m", max_tokens=64, messages=[{"role": "user", "content": prompt}])
    return msg.content[0].text


async def raw(prompt: str) -> str:
    response = oai.chat.completions.with_raw_response.create(model="m", messages=[])
    return response.headers["x-request-id"]


async def models() -> list[str]:
    return [m.id for m in oai.models.list()]


async def passed(stream_flag: bool) -> object:
    return other.chat.completions.create(model="m", messages=[], stream=stream_flag)

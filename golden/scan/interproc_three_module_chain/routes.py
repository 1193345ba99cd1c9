from fastapi import FastAPI

import services
from llm import client
from services import build_prompt, generate_reply

app = FastAPI()


@app.post("/chat")
async def chat(message: str) -> dict:
    prompt = build_prompt([], message)  # ok: pure helper
    reply = generate_reply([], message)  # expect: AM150 via=generate_reply,CompletionClient.complete
    again = services.generate_reply([], "again")  # expect: AM150 via=generate_reply,CompletionClient.complete
    direct = client.complete(prompt)  # expect: AM150 via=CompletionClient.complete
    deep = services.client.complete(prompt)  # expect: AM150 via=CompletionClient.complete
    return {"reply": reply, "again": again, "direct": direct, "deep": deep, "model": client.name()}  # ok: pure method

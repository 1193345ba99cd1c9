import openai
from fastapi import FastAPI

from llm_clients import aclaude, agpt, claude, gpt

MODEL = "claude-sonnet-4-5"
app = FastAPI()


@app.post("/claude")
async def ask_claude(prompt: str) -> str:
    message = claude.messages.create(  # expect: AM260
        model=MODEL,
        max_tokens=1024,
        messages=[{"role": "user", "content": prompt}],
    )
    return message.content[0].text  # ok: data already received


@app.post("/claude/async")
async def ask_claude_async(prompt: str) -> str:
    message = await aclaude.messages.create(  # ok: AsyncAnthropic awaited
        model=MODEL,
        max_tokens=1024,
        messages=[{"role": "user", "content": prompt}],
    )
    return message.content[0].text


@app.post("/claude/slow")
async def ask_claude_slow(prompt: str) -> str:
    message = claude.with_options(timeout=120).messages.create(model=MODEL, max_tokens=4096, messages=[])  # expect: AM260
    with claude.messages.stream(model=MODEL, max_tokens=1024, messages=[]) as stream:  # expect: AM260
        pass
    return message.content[0].text


@app.post("/gpt")
async def ask_gpt(prompt: str) -> str:
    completion = gpt.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": prompt}])  # expect: AM260
    return completion.choices[0].message.content or ""


@app.post("/gpt/async")
async def ask_gpt_async(prompt: str) -> str:
    completion = await agpt.chat.completions.create(model="gpt-4o-mini", messages=[])  # ok: AsyncOpenAI awaited
    return completion.choices[0].message.content or ""


@app.post("/embed")
async def embed(text: str) -> list[float]:
    local = openai.OpenAI(api_key="sk-test")  # ok: constructing the client makes no request
    result = local.embeddings.create(model="text-embedding-3-small", input=text)  # expect: AM260
    return result.data[0].embedding

from openai import AsyncOpenAI

_client = AsyncOpenAI(timeout=20)


async def answer(question: str) -> str:
    completion = await _client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": question}],
    )
    return completion.choices[0].message.content or ""


async def answer_upper(question: str) -> str:
    return (await answer(question)).upper()

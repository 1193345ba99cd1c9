from openai import OpenAI

_client = OpenAI(timeout=20)


def answer(question: str) -> str:
    completion = _client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": question}],
    )
    return completion.choices[0].message.content or ""


def answer_upper(question: str) -> str:
    return answer(question).upper()

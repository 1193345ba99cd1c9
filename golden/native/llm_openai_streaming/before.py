from openai import AzureOpenAI, OpenAI

client = OpenAI()


async def complete(prompt: str) -> str:
    resp = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": prompt}])
    return resp.choices[0].message.content or ""


async def stream_words(prompt: str) -> list[str]:
    words = []
    chunks = client.chat.completions.create(model="gpt-4o", messages=[], stream=True)
    for chunk in chunks:
        words.append(chunk.choices[0].delta.content or "")
    for chunk in client.chat.completions.create(model="gpt-4o", messages=[], stream=True):
        words.append(chunk.choices[0].delta.content or "")
    return words


async def embed(texts: list[str]) -> list[list[float]]:
    with AzureOpenAI(api_version="2024-06-01") as azure:
        result = azure.embeddings.create(model="text-embedding-3-small", input=texts)
    return [d.embedding for d in result.data]

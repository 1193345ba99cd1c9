import anthropic

MODEL = "claude-sonnet-4-5"
claude = anthropic.AsyncAnthropic(max_retries=3)


async def summarize(text: str) -> str:
    msg = await claude.messages.create(
        model=MODEL,
        max_tokens=256,
        messages=[{"role": "user", "content": f"Summarize: {text}"}],
    )
    return msg.content[0].text


async def chat(prompt: str) -> dict:
    reply = await claude.with_options(timeout=30).messages.create(
        model=MODEL, max_tokens=512, messages=[{"role": "user", "content": prompt}]
    )
    parts = []
    async with claude.messages.stream(model=MODEL, max_tokens=512, messages=[]) as stream:
        async for text in stream.text_stream:
            parts.append(text)
        usage = (await stream.get_final_message()).usage
    return {"reply": reply.content[0].text, "streamed": "".join(parts), "usage": usage.output_tokens,
            "summary": await summarize(prompt)}

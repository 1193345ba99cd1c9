from langchain_openai import ChatOpenAI

llm = ChatOpenAI()


async def tokens(question: str) -> list[str]:
    out = []
    async for chunk in llm.astream(question):
        out.append(chunk.content)
    return out


async def first_chunk(question: str) -> str:
    it = llm.stream(question)
    return next(iter(it)).content


async def quick(question: str) -> str:
    return (await llm.ainvoke(question, config={"tags": ["quick"]})).content

from langchain_openai import ChatOpenAI

llm = ChatOpenAI()


async def tokens(question: str) -> list[str]:
    out = []
    for chunk in llm.stream(question):
        out.append(chunk.content)
    return out


async def first_chunk(question: str) -> str:
    it = llm.stream(question)
    return next(iter(it)).content


async def quick(question: str) -> str:
    return llm.invoke(question, config={"tags": ["quick"]}).content

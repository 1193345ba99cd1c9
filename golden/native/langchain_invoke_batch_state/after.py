from langchain_core.prompts import ChatPromptTemplate
from langchain_openai import ChatOpenAI
from langgraph.checkpoint.memory import MemorySaver
from langgraph.graph import StateGraph

llm = ChatOpenAI(model="gpt-4o-mini")
prompt = ChatPromptTemplate.from_template("Answer: {question}")
chain = prompt | llm
graph = StateGraph(dict).compile(checkpointer=MemorySaver())


async def answer(question: str) -> str:
    return (await chain.ainvoke({"question": question})).content


async def answer_many(questions: list[str]) -> list[str]:
    replies = await chain.abatch([{"question": q} for q in questions], config={"max_concurrency": 4})
    return [r.content for r in replies]


async def resume(thread_id: str, values: dict) -> dict:
    config = {"configurable": {"thread_id": thread_id}}
    await graph.aupdate_state(config, values, as_node="human")
    state = await graph.aget_state(config)
    return state.values

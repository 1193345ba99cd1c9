from fastapi import FastAPI
from langchain_core.output_parsers import StrOutputParser
from langchain_openai import ChatOpenAI

from chains import chain, llm, prompt
from graph import graph

app = FastAPI()


class Tool:
    def invoke(self, payload: dict) -> dict:
        return payload


@app.post("/ask")
async def ask(question: str) -> str:
    return chain.invoke({"question": question})  # expect: AM270


@app.post("/ask/async")
async def ask_async(question: str) -> str:
    return await chain.ainvoke({"question": question})  # ok: async twin awaited


@app.post("/ask/stream")
async def ask_stream(question: str) -> list:
    out = []
    for chunk in chain.stream({"question": question}):  # expect: AM270
        out.append(chunk)
    async for chunk in chain.astream({"question": question}):  # ok: async iterator
        out.append(chunk)
    messages = prompt.format_messages(question=question)  # ok: formatting is local
    reply = llm.invoke(messages)  # expect: AM270
    tooled = llm.bind_tools([]).invoke(messages)  # expect: AM270
    answers = chain.batch([{"question": question}] * 3)  # expect: AM270
    local_chain = prompt | ChatOpenAI(model="gpt-4o") | StrOutputParser()  # ok: composing runs nothing
    text = local_chain.invoke({"question": question})  # expect: AM270
    echo = Tool().invoke({"q": question})  # ok: project class, pure method
    return out + [reply, tooled, answers, text, echo]


@app.post("/graph")
async def run_graph(question: str, thread_id: str) -> dict:
    config = {"configurable": {"thread_id": thread_id}}
    state = graph.invoke({"question": question}, config)  # expect: AM270
    snapshot = graph.get_state(config)  # expect: AM270
    state = await graph.ainvoke({"question": question}, config)  # ok: awaited
    snapshot = await graph.aget_state(config)  # ok: awaited
    return {"state": state, "next": snapshot.next}

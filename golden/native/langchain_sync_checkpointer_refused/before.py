import sqlite3

from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import StateGraph

saver = SqliteSaver(sqlite3.connect("checkpoints.db", check_same_thread=False))
graph = StateGraph(dict).compile(checkpointer=saver)


async def run(inputs: dict, thread_id: str) -> dict:
    return graph.invoke(inputs, {"configurable": {"thread_id": thread_id}})

from fastapi import FastAPI

from app.assistant import answer_upper

app = FastAPI()


@app.get("/ask")
async def ask(q: str) -> dict:
    return {"answer": await answer_upper(q)}

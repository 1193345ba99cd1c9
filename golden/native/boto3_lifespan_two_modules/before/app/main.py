import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request, Response

from app.storage import fetch, s3, upload

BUCKET = "archive"
logger = logging.getLogger("app")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    try:
        s3.create_bucket(Bucket=BUCKET)
    except (s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
        pass
    yield
    logger.info("stopping")


app = FastAPI(lifespan=lifespan)


@app.put("/objects/{key}")
async def put(key: str, request: Request) -> dict[str, str]:
    return {"key": upload(BUCKET, key, await request.body())}


@app.get("/objects/{key}")
async def get(key: str) -> Response:
    try:
        return Response(content=fetch(BUCKET, key), media_type="application/octet-stream")
    except s3.exceptions.NoSuchKey:
        raise HTTPException(status_code=404) from None

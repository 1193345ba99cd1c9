import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request, Response

from app.storage import close_s3, fetch, get_s3, upload

BUCKET = "archive"
logger = logging.getLogger("app")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    s3 = await get_s3()
    try:
        await s3.create_bucket(Bucket=BUCKET)
    except (s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
        pass
    yield
    logger.info("stopping")
    await close_s3()


app = FastAPI(lifespan=lifespan)


@app.put("/objects/{key}")
async def put(key: str, request: Request) -> dict[str, str]:
    return {"key": await upload(BUCKET, key, await request.body())}


@app.get("/objects/{key}")
async def get(key: str) -> Response:
    s3 = await get_s3()
    try:
        return Response(content=await fetch(BUCKET, key), media_type="application/octet-stream")
    except s3.exceptions.NoSuchKey:
        raise HTTPException(status_code=404) from None

from contextlib import asynccontextmanager

import boto3
from fastapi import FastAPI

s3 = boto3.client("s3", region_name="eu-west-1")
sqs = boto3.client("sqs", region_name="eu-west-1")


@asynccontextmanager
async def lifespan(app: FastAPI):
    print("starting")
    yield


app = FastAPI(lifespan=lifespan)


@app.post("/jobs/{key}")
async def submit(key: str, body: bytes) -> None:
    """Store the payload, then queue the job."""
    s3.put_object(Bucket="jobs", Key=key, Body=body)
    sqs.send_message(QueueUrl="https://queue.example/jobs", MessageBody=key)


@app.get("/jobs/{key}")
async def result(key: str) -> bytes:
    obj = s3.get_object(Bucket="results", Key=key)
    return obj["Body"].read()

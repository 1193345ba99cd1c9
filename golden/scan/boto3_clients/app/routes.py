import boto3
from fastapi import APIRouter, UploadFile

from app.aws import BUCKET, s3, users_table

router = APIRouter()


@router.post("/files")
async def upload(file: UploadFile) -> dict:
    body = await file.read()  # ok: async
    s3.put_object(Bucket=BUCKET, Key=file.filename, Body=body)  # expect: AM220
    url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": file.filename})  # ok: signed locally
    return {"url": url}


@router.get("/files/{key}")
async def download(key: str) -> bytes:
    return s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()  # expect: AM220


@router.get("/files/{key}/two-steps")
async def download_two_steps(key: str) -> bytes:
    obj = s3.get_object(Bucket=BUCKET, Key=key)  # expect: AM220
    body = obj["Body"]
    return body.read()  # expect: AM220


@router.get("/users/{user_id}")
async def get_user(user_id: str) -> dict:
    item = users_table.get_item(Key={"id": user_id})  # expect: AM220
    return item.get("Item", {})  # ok: plain dict response


@router.post("/backups")
async def backup() -> None:
    bucket = boto3.resource("s3").Bucket(BUCKET)  # ok: resource objects are lazy
    bucket.upload_file("/tmp/db.dump", "db.dump")  # expect: AM220
    session = boto3.session.Session(profile_name="backup")  # ok: no request
    sqs = session.client("sqs")  # ok: creating a client makes no request
    sqs.send_message(QueueUrl="https://sqs.eu-west-1.amazonaws.com/1/jobs", MessageBody="done")  # expect: AM220
    paginator = s3.get_paginator("list_objects_v2")  # ok: no request until iterated
    local = boto3.client("ses")  # ok: creating a client makes no request
    local.send_email(Source="a@example.com", Destination={}, Message={})  # expect: AM220

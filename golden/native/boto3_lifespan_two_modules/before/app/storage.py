"""Archive on S3."""

import os

import boto3

s3 = boto3.client(
    "s3",
    endpoint_url=os.environ.get("S3_ENDPOINT_URL"),
)


def upload(bucket: str, key: str, body: bytes) -> str:
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    return key


def fetch(bucket: str, key: str) -> bytes:
    """Raises ``s3.exceptions.NoSuchKey`` if absent."""
    obj = s3.get_object(Bucket=bucket, Key=key)
    return obj["Body"].read()

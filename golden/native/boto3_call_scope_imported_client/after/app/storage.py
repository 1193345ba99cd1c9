"""Archive on S3."""

import os

import aioboto3

session = aioboto3.Session()


def open_s3():
    return session.client(
        "s3",
        endpoint_url=os.environ.get("S3_ENDPOINT_URL"),
    )


async def fetch(bucket: str, key: str) -> bytes:
    async with open_s3() as s3:
        obj = await s3.get_object(Bucket=bucket, Key=key)
        return await obj["Body"].read()

import boto3

s3 = boto3.client("s3")


async def keys(bucket: str) -> list[str]:
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        out += [o["Key"] for o in page.get("Contents", [])]
    s3.delete_object(Bucket=bucket, Key="marker")
    return out

import boto3

s3 = boto3.client("s3")


async def put(bucket: str, key: str, body: bytes) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=body)

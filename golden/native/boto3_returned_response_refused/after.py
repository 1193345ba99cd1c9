import boto3

s3 = boto3.client("s3")


async def open_object(bucket: str, key: str) -> dict:
    return s3.get_object(Bucket=bucket, Key=key)


async def size(bucket: str, key: str) -> int:
    return len((await open_object(bucket, key))["Body"].read())

import boto3


async def exists(bucket: str) -> bool:
    client = boto3.client("s3")
    client.head_bucket(Bucket=bucket)
    return True

import boto3

from settings import BUCKET, REGION

s3 = boto3.client("s3", region_name=REGION)


def upload(key: str, body: bytes) -> str:
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    return key


def download(key: str) -> bytes:
    obj = s3.get_object(Bucket=BUCKET, Key=key)
    data = obj["Body"].read()
    return data


async def share(key: str, body: bytes) -> str:
    upload(key, body)
    return s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=60)

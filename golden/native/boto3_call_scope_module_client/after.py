import aioboto3

from settings import BUCKET, REGION

session = aioboto3.Session()


def open_s3():
    return session.client("s3", region_name=REGION)


async def upload(key: str, body: bytes) -> str:
    async with open_s3() as s3:
        await s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    return key


async def download(key: str) -> bytes:
    async with open_s3() as s3:
        obj = await s3.get_object(Bucket=BUCKET, Key=key)
        data = await obj["Body"].read()
        return data


async def share(key: str, body: bytes) -> str:
    await upload(key, body)
    async with open_s3() as s3:
        return await s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=60)

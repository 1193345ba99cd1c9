from app.storage import fetch, open_s3


async def ensure_bucket(bucket: str) -> None:
    async with open_s3() as s3:
        try:
            await s3.create_bucket(Bucket=bucket)
        except s3.exceptions.BucketAlreadyOwnedByYou:
            pass


async def get(bucket: str, key: str) -> bytes | None:
    async with open_s3() as s3:
        try:
            return await fetch(bucket, key)
        except s3.exceptions.NoSuchKey:
            return None

from app.storage import fetch, s3


async def ensure_bucket(bucket: str) -> None:
    try:
        s3.create_bucket(Bucket=bucket)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass


async def get(bucket: str, key: str) -> bytes | None:
    try:
        return fetch(bucket, key)
    except s3.exceptions.NoSuchKey:
        return None

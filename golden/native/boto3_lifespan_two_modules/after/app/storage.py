"""Archive on S3."""

import asyncio
import os

import aioboto3

session = aioboto3.Session()
_s3 = None  # the shared client: see get_s3()


def open_s3():
    return session.client(
        "s3",
        endpoint_url=os.environ.get("S3_ENDPOINT_URL"),
    )


def _load_botocore_data(client_context) -> None:
    """Run in a worker thread with no event loop: start building a client there, so botocore reads its
    data files (service model, endpoints, config) off the loop and caches them in the session. It stops
    where the client needs the loop (its HTTP session); the real client is then built on the loop."""
    opening = client_context.__aenter__()
    try:
        opening.send(None)
    except StopIteration as done:  # built without the loop after all: close it
        asyncio.run(done.value.close())
    except Exception:  # noqa: BLE001 - no running event loop: the data files are loaded by now
        pass
    finally:
        opening.close()


async def get_s3():
    """The shared `s3` client: created once per app lifespan, closed by `close_s3()`."""
    global _s3
    if _s3 is None:
        await asyncio.get_running_loop().run_in_executor(None, _load_botocore_data, open_s3())
        client = await open_s3().__aenter__()
        if _s3 is None:
            _s3 = client
        else:  # another task created it meanwhile
            await client.close()
    return _s3


async def close_s3() -> None:
    global _s3
    client, _s3 = _s3, None
    if client is not None:
        await client.close()


async def upload(bucket: str, key: str, body: bytes) -> str:
    s3 = await get_s3()
    await s3.put_object(Bucket=bucket, Key=key, Body=body)
    return key


async def fetch(bucket: str, key: str) -> bytes:
    """Raises ``s3.exceptions.NoSuchKey`` if absent."""
    s3 = await get_s3()
    obj = await s3.get_object(Bucket=bucket, Key=key)
    return await obj["Body"].read()

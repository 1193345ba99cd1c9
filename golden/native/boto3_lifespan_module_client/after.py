import asyncio

import aioboto3

from settings import BUCKET, REGION

session = aioboto3.Session()
_s3 = None  # the shared client: see get_s3()


def open_s3():
    return session.client("s3", region_name=REGION)


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


async def upload(key: str, body: bytes) -> str:
    s3 = await get_s3()
    await s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    return key


async def download(key: str) -> bytes:
    s3 = await get_s3()
    obj = await s3.get_object(Bucket=BUCKET, Key=key)
    data = await obj["Body"].read()
    return data


async def share(key: str, body: bytes) -> str:
    await upload(key, body)
    s3 = await get_s3()
    return await s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=60)

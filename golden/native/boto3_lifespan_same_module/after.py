import asyncio
from contextlib import asynccontextmanager

import aioboto3
from fastapi import FastAPI

session = aioboto3.Session()
_s3 = None  # the shared client: see get_s3()


def open_s3():
    return session.client("s3", region_name="eu-west-1")


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


_sqs = None  # the shared client: see get_sqs()


def open_sqs():
    return session.client("sqs", region_name="eu-west-1")


async def get_sqs():
    """The shared `sqs` client: created once per app lifespan, closed by `close_sqs()`."""
    global _sqs
    if _sqs is None:
        await asyncio.get_running_loop().run_in_executor(None, _load_botocore_data, open_sqs())
        client = await open_sqs().__aenter__()
        if _sqs is None:
            _sqs = client
        else:  # another task created it meanwhile
            await client.close()
    return _sqs


async def close_sqs() -> None:
    global _sqs
    client, _sqs = _sqs, None
    if client is not None:
        await client.close()


@asynccontextmanager
async def lifespan(app: FastAPI):
    print("starting")
    await get_s3()
    await get_sqs()
    yield
    await close_s3()
    await close_sqs()


app = FastAPI(lifespan=lifespan)


@app.post("/jobs/{key}")
async def submit(key: str, body: bytes) -> None:
    """Store the payload, then queue the job."""
    s3 = await get_s3()
    sqs = await get_sqs()
    await s3.put_object(Bucket="jobs", Key=key, Body=body)
    await sqs.send_message(QueueUrl="https://queue.example/jobs", MessageBody=key)


@app.get("/jobs/{key}")
async def result(key: str) -> bytes:
    s3 = await get_s3()
    obj = await s3.get_object(Bucket="results", Key=key)
    return await obj["Body"].read()

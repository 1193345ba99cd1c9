"""Golden pairs of the native ``boto3`` target (``golden/native/boto3_<case>/``) and runtime checks:
the rewritten code really uploads and downloads objects through aioboto3 against moto's server, with
the shared client of the default ``lifespan`` scope (created at startup, closed at shutdown, no
blocking call on the event loop) and with a client per call (``boto3_client_scope = call``)."""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from asgi_migrate.codemods.native.targets.boto3 import Boto3Target
from test_native_files import GOLDEN, _targets_decide_with_items, cases, check_case  # noqa: F401

BOTO3 = cases("boto3")


def test_enough_cases() -> None:
    assert len(BOTO3) >= 5


@pytest.mark.parametrize("case", BOTO3, ids=lambda p: p.name)
def test_boto3_golden(case: Path) -> None:
    check_case(case, lambda: [Boto3Target()])


def test_aiobotocore_api_is_async() -> None:
    """What the rewrite assumes of the installed aiobotocore."""
    pytest.importorskip("aioboto3")
    import inspect

    from aiobotocore import response, signers

    assert inspect.iscoroutinefunction(response.StreamingBody.read)
    assert inspect.iscoroutinefunction(signers.generate_presigned_url)


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    pytest.importorskip("aioboto3")
    server_mod = pytest.importorskip("moto.server")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def _load_case(case: str, moto_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 "AWS_DEFAULT_REGION": "us-east-1", "S3_ENDPOINT_URL": moto_endpoint}.items():
        monkeypatch.setenv(k, v)
    shutil.copytree(GOLDEN / case / "after", tmp_path / "pkg")
    monkeypatch.syspath_prepend(str(tmp_path / "pkg"))
    for name in [n for n in sys.modules if n == "app" or n.startswith("app.")]:
        monkeypatch.delitem(sys.modules, name)


def test_default_scope_is_lifespan() -> None:
    from asgi_migrate.codemods.native.base import NativeConfig

    assert NativeConfig().boto3_client_scope == "lifespan"


def test_shared_client_through_lifespans(moto_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``boto3_lifespan_two_modules/after`` served by FastAPI, twice (each ``TestClient`` runs the lifespan on
    a new event loop): the lifespan creates the bucket with the shared client and closes it at shutdown,
    every request reuses that one client, ``except s3.exceptions.NoSuchKey`` maps to a 404, and under
    blockbuster (scanning the app) nothing blocks the loop: botocore's data files are read in a thread."""
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    _load_case("boto3_lifespan_two_modules", moto_endpoint, tmp_path, monkeypatch)
    from app import main, storage  # type: ignore[import-not-found]

    created = []
    real_open = storage.open_s3

    def counting_open():  # type: ignore[no-untyped-def]
        created.append(1)
        return real_open()

    monkeypatch.setattr(storage, "open_s3", counting_open)
    try:
        from blockbuster import BlockBuster
    except ImportError:  # pragma: no cover - blockbuster is a dev dependency
        guard = None
    else:
        guard = BlockBuster(scanned_modules=["app"])
    if guard is not None:
        guard.activate()
    try:
        for round_ in range(2):
            assert storage._s3 is None
            with TestClient(main.app) as client:
                shared = storage._s3
                assert shared is not None  # created by the lifespan, before any request
                assert client.put(f"/objects/k{round_}", content=b"payload").status_code == 200
                got = client.get(f"/objects/k{round_}")
                assert got.status_code == 200 and got.content == b"payload"
                assert client.get("/objects/missing").status_code == 404
                assert storage._s3 is shared
            assert storage._s3 is None  # closed by the lifespan's shutdown
    finally:
        if guard is not None:
            guard.deactivate()
    assert len(created) == 4  # per lifespan: one throwaway (warm-up in a thread) + the shared client


def test_rewritten_client_round_trip(moto_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``boto3_call_scope_imported_client/after`` (``boto3_client_scope = call``): create the bucket, upload with
    a fresh client, read it back through ``fetch`` (body read inside the client context), and a missing key maps
    to ``None`` through ``except s3.exceptions.NoSuchKey`` on another client of the same session."""
    import boto3

    _load_case("boto3_call_scope_imported_client", moto_endpoint, tmp_path, monkeypatch)
    from app import api, storage  # type: ignore[import-not-found]

    async def scenario() -> tuple[bytes, bytes | None]:
        await api.ensure_bucket("archive")
        await api.ensure_bucket("archive")  # BucketAlreadyOwnedByYou is caught
        async with storage.open_s3() as s3:
            await s3.put_object(Bucket="archive", Key="k", Body=b"payload")
        return await api.get("archive", "k"), await api.get("archive", "missing")

    found, missing = asyncio.run(scenario())
    assert found == b"payload"
    assert missing is None
    sync = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    assert sync.get_object(Bucket="archive", Key="k")["Body"].read() == b"payload"

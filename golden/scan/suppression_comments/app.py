import time

import requests


def legacy_pause() -> None:
    time.sleep(0.05)  # asgi-migrate: ignore[AM150]


def noisy() -> None:
    time.sleep(0.05)  # asgi-migrate: ignore
    requests.get("https://example.com/ping", timeout=2)


def quiet_helper() -> None:
    time.sleep(1)


async def handler() -> None:
    time.sleep(1)  # asgi-migrate: ignore[AM150]
    time.sleep(1)  # asgi-migrate: ignore
    time.sleep(1)  # noqa: ASYNC251
    time.sleep(1)  # noqa: ASYNC251, E501
    time.sleep(1)  # noqa: E501  # expect: AM150
    time.sleep(1)  # asgi-migrate: ignore[AM100]  # expect: AM150
    requests.get("https://example.com", timeout=5)  # noqa: ASYNC210
    requests.get("https://example.com", timeout=5)  # asgi-migrate: ignore[AM100, AM150]
    quiet_helper()  # noqa: ASYNC251  # expect: AM150 via=quiet_helper
    quiet_helper()  # asgi-migrate: ignore[AM150]
    legacy_pause()  # ok: the leaf is suppressed inside the helper
    noisy()  # expect: AM100 via=noisy
    resp = requests.post(  # expect: AM100
        "https://example.com/hook",
        json={"a": 1},
        timeout=5,
    )
    requests.post(  # asgi-migrate: ignore[AM100]
        "https://example.com/hook",
        timeout=5,
    )

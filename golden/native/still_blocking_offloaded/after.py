import asyncio
import socket
import time


async def ping(host: str) -> None:
    await asyncio.sleep(0.1)
    await asyncio.to_thread(lambda: socket.create_connection((host, 80)).close())


def lines(path: str):
    with open(path) as fh:
        yield from fh


def read_config(path: str) -> list[str]:
    time.sleep(0.01)
    return list(lines(path))  # the generator's body would run on the loop: read_config stays sync


def probe(host: str) -> int:
    return len(socket.gethostbyname(host))


async def check(host: str) -> bool:
    await ping(host)
    return await asyncio.to_thread(probe, host) > 0


async def handler(host: str) -> None:
    await ping(host)
    print(await asyncio.to_thread(read_config, "app.cfg"))
    print(await check(host))

import asyncio
import socket
import time


def ping(host: str) -> None:
    time.sleep(0.1)
    socket.create_connection((host, 80)).close()


def lines(path: str):
    with open(path) as fh:
        yield from fh


def read_config(path: str) -> list[str]:
    time.sleep(0.01)
    return list(lines(path))  # the generator's body would run on the loop: read_config stays sync


def probe(host: str) -> int:
    return len(socket.gethostbyname(host))


def check(host: str) -> bool:
    ping(host)
    return probe(host) > 0


async def handler(host: str) -> None:
    await asyncio.to_thread(ping, host)
    print(await asyncio.to_thread(read_config, "app.cfg"))
    print(await asyncio.to_thread(check, host))

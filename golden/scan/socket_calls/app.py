import asyncio
import socket


async def probe(host: str, port: int) -> bool:
    ip = socket.gethostbyname(host)  # expect: AM240
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # ok: creating a socket does no network I/O
    sock.settimeout(2)  # ok: local option
    sock.connect((ip, port))  # expect: AM240
    sock.sendall(b"PING\r\n")  # expect: AM240
    reply = sock.recv(1024)  # expect: AM240
    sock.close()  # ok: local
    return reply.startswith(b"+PONG")


async def quick_check(host: str) -> str:
    conn = socket.create_connection((host, 80), timeout=3)  # expect: AM240
    conn.send(b"HEAD / HTTP/1.0\r\n\r\n")  # expect: AM240
    name = socket.gethostname()  # ok: local
    reader, writer = await asyncio.open_connection(host, 80)  # ok: asyncio streams
    writer.write(b"HEAD / HTTP/1.0\r\n\r\n")  # ok: asyncio transport buffers
    await writer.drain()
    return name

import asyncio


async def checksum(path):
    digest = await asyncio.to_thread(compute_digest, path)
    return digest


def compute_digest(path):
    return path

import asyncio
import json


def _get_transcript_sync(path) -> dict:
    with open(path) as f:
        return json.load(f)


async def get_transcript(cid: int, audit) -> dict:
    await audit.log("read", cid)
    path = f"/data/conversation-{cid}.json"
    return await asyncio.to_thread(_get_transcript_sync, path)

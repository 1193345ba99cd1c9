import json


async def get_transcript(cid: int, audit) -> dict:
    await audit.log("read", cid)
    path = f"/data/conversation-{cid}.json"
    with open(path) as f:
        return json.load(f)

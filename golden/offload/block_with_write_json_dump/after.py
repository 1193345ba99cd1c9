import asyncio
import json


def _save_settings_sync(path: str, payload):
    with open(path, "w") as f:  # text mode
        json.dump(payload, f, indent=2)  # pretty for humans


async def save_settings(path: str, settings: dict, notifier) -> None:
    payload = {"version": 2, **settings}
    # write the whole file in one go
    await asyncio.to_thread(_save_settings_sync, path, payload)
    await notifier.send("saved")

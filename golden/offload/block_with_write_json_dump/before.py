import json


async def save_settings(path: str, settings: dict, notifier) -> None:
    payload = {"version": 2, **settings}
    # write the whole file in one go
    with open(path, "w") as f:  # text mode
        json.dump(payload, f, indent=2)  # pretty for humans
    await notifier.send("saved")

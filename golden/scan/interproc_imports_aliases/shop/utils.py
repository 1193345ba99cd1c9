import time


def throttle() -> None:
    time.sleep(0.2)


def slug(text: str) -> str:
    return text.lower().replace(" ", "-")

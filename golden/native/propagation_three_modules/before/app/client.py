"""A client with backoff: requests + time.sleep."""

import time

import requests


class Client:
    def __init__(self, base: str) -> None:
        self.base = base

    def fetch(self, path: str) -> dict:
        for _ in range(3):
            resp = requests.get(f"{self.base}{path}", timeout=5)
            if resp.status_code < 500:
                resp.raise_for_status()
                return resp.json()
            time.sleep(0.1)
        raise RuntimeError("unavailable")


client = Client("http://example.test")

import hashlib
import time


class PricingService:
    def __init__(self, rates: dict | None = None) -> None:
        self.rates = rates or {}

    def _fetch_rates(self) -> dict:
        time.sleep(0.3)
        return {"EUR": 1.0}

    async def quote(self, sku: str) -> float:
        rates = self._fetch_rates()  # expect: AM150 via=PricingService._fetch_rates
        return rates.get(sku, 1.0)  # ok: plain dict

    @staticmethod
    def checksum(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    @staticmethod
    def warm_cache() -> None:
        time.sleep(1)

    @classmethod
    def from_disk(cls, path: str) -> "PricingService":
        with open(path) as f:
            return cls({"raw": f.read()})


class Outer:
    class Inner:
        def load(self) -> bytes:
            return open("blob.bin", "rb").read()

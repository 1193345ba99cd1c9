"""asgi-migrate: stop blocking the asyncio event loop. Code lives in codemods/ and cli/."""

__version__ = "0.1.0"

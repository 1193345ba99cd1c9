"""Client for the completion server (an OpenAI-style /v1/completions endpoint)."""

from __future__ import annotations

import logging
import time

import requests

from app.config import settings

logger = logging.getLogger(__name__)


class CompletionError(RuntimeError):
    pass


class CompletionClient:
    def __init__(
        self,
        base_url: str,
        timeout: float = 30.0,
        max_retries: int = 3,
        backoff: float = 0.2,
    ) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff

    def complete(self, prompt: str, max_tokens: int = 256) -> str:
        """Return the completion text, retrying transient failures with backoff."""
        backoff = self.backoff
        for attempt in range(1, self.max_retries + 1):
            try:
                resp = requests.post(
                    f"{self.base_url}/v1/completions",
                    json={"prompt": prompt, "max_tokens": max_tokens, "temperature": 0.2},
                    timeout=self.timeout,
                )
                if resp.status_code >= 500:
                    raise CompletionError(f"completion server returned {resp.status_code}")
                resp.raise_for_status()
                return resp.json()["choices"][0]["text"].strip()
            except (requests.ConnectionError, requests.Timeout, CompletionError) as exc:
                if attempt == self.max_retries:
                    raise CompletionError(f"completion failed after {attempt} attempts") from exc
                logger.warning("completion attempt %d failed (%s), retrying", attempt, exc)
                time.sleep(backoff)
                backoff *= 2
        raise AssertionError("unreachable")


client = CompletionClient(settings.llm_base_url, timeout=settings.llm_timeout)

"""Application settings, read once from the environment at import time."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str
    s3_endpoint_url: str | None
    s3_bucket: str
    aws_region: str
    llm_base_url: str
    llm_timeout: float
    transcript_dir: Path
    rate_limit_per_minute: int

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            database_url=os.environ.get("DATABASE_URL", "sqlite:///./chatapp.db"),
            redis_url=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
            # None means "real AWS"; local dev points this at minio/moto.
            s3_endpoint_url=os.environ.get("S3_ENDPOINT_URL") or None,
            s3_bucket=os.environ.get("S3_BUCKET", "chatapp-transcripts"),
            aws_region=os.environ.get("AWS_REGION", "us-east-1"),
            llm_base_url=os.environ.get("LLM_BASE_URL", "http://127.0.0.1:8080").rstrip("/"),
            llm_timeout=float(os.environ.get("LLM_TIMEOUT", "30")),
            transcript_dir=Path(os.environ.get("TRANSCRIPT_DIR", "./transcripts")),
            rate_limit_per_minute=int(os.environ.get("RATE_LIMIT_PER_MINUTE", "120")),
        )


settings = Settings.from_env()

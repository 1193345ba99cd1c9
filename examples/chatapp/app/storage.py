"""Transcripts: a JSON file per conversation on disk, archived to S3 on demand."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import boto3

from app.config import settings


class TranscriptStore:
    """Append-only JSON transcripts, one file per conversation."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, cid: int) -> Path:
        return self.root / f"conversation-{cid}.json"

    def append(self, cid: int, role: str, content: str) -> None:
        p = self._path(cid)
        data: dict[str, Any] = {"conversation_id": cid, "messages": []}
        if os.path.exists(p):
            with open(p) as f:
                data = json.load(f)
        data["messages"].append(
            {"role": role, "content": content, "at": datetime.now(timezone.utc).isoformat()}
        )
        os.makedirs(self.root, exist_ok=True)
        with open(p, "w") as f:
            json.dump(data, f, indent=2)

    def read_bytes(self, cid: int) -> bytes | None:
        p = self._path(cid)
        if not p.exists():
            return None
        return p.read_bytes()


transcripts = TranscriptStore(settings.transcript_dir)

s3 = boto3.client(
    "s3",
    endpoint_url=settings.s3_endpoint_url,
    region_name=settings.aws_region,
)


def archive_key(cid: int) -> str:
    return f"transcripts/conversation-{cid}.json"


def upload_transcript(cid: int, body: bytes) -> str:
    """Upload a transcript to the archive bucket and return its key."""
    key = archive_key(cid)
    s3.put_object(Bucket=settings.s3_bucket, Key=key, Body=body, ContentType="application/json")
    return key


def download_transcript(cid: int) -> bytes:
    """Fetch an archived transcript; raises ``s3.exceptions.NoSuchKey`` if absent."""
    obj = s3.get_object(Bucket=settings.s3_bucket, Key=archive_key(cid))
    return obj["Body"].read()

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


class TranscriptStore:
    """Append-only JSON transcripts, one file per conversation."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, cid: int) -> Path:
        return self.root / f"conversation-{cid}.json"

    async def append(self, cid: int, role: str, content: str) -> None:
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

"""The heartbeat file: what the polling loop last did, in the data folder (`sante.json`), so
that `servir` (`/sante`) can tell from another process. Written atomically (a temporary file
renamed over the old one), private (0600)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sender.storage import PRIVATE_FILE, private_dir

FILE_NAME = "sante.json"


@dataclass
class Heartbeat:
    """Times are Unix seconds. `progress` moves while a long cycle (a dispatch) advances."""

    pid: int = 0
    host: str = ""
    poll_seconds: float = 10.0
    started: float | None = None  # start of the cycle in progress, None between cycles
    progress: float | None = None
    last_success: float | None = None
    last_summary: str = ""
    last_error: dict[str, Any] | None = field(default=None)  # {"at": float, "message": str}

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Heartbeat:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


def heartbeat_path(data_dir: Path) -> Path:
    return data_dir / FILE_NAME


def write_heartbeat(path: Path, beat: Heartbeat) -> None:
    """Replace the heartbeat file at once (never half written). Raises OSError."""
    private_dir(path.parent)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    try:
        os.write(fd, json.dumps(beat.as_json(), ensure_ascii=False).encode("utf-8"))
    finally:
        os.close(fd)
    os.replace(temporary, path)


def read_heartbeat(path: Path) -> Heartbeat | None:
    """The last heartbeat, or None when there is none or it cannot be read."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    try:
        return Heartbeat.from_json(data)
    except TypeError:
        return None

"""The default channel: each message becomes one JSON line in a local file and a printed line.

Used by `make run`, dry runs and demonstrations: nothing leaves the machine. Lines are appended
whole under a lock (no fsync: a crash may lose the last lines, never corrupt earlier ones); the
file is private (0600).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from sender.channels.base import BatchStopError, Channel, OutgoingMessage, SendResult
from sender.storage import open_private_append, os_reason
from sender.text import mask_phone

PREVIEW_LENGTH = 90


class OutboxChannel(Channel):
    """Appends messages to a JSONL file and shows a short line per message."""

    name = "outbox"

    def __init__(
        self,
        path: str | Path,
        console: Console | None = None,
        *,
        quiet: bool = False,
        **base_kwargs: Any,
    ) -> None:
        base_kwargs.setdefault("rate_per_second", 100_000.0)
        super().__init__(**base_kwargs)
        self.path = Path(path)
        self.console = console if console is not None else Console(highlight=False)
        self.quiet = quiet
        self._lock = threading.Lock()
        self._fd: int | None = None

    def __repr__(self) -> str:
        return f"OutboxChannel(path={str(self.path)!r})"

    def _append(self, line: bytes) -> None:
        """Append one whole line; on a full or failing disk, cut a partial line off again so
        the file stays one JSON object per line."""
        if self._fd is None:
            self._fd = open_private_append(self.path)  # 0600: numbers and messages
        fd = self._fd
        before = os.fstat(fd).st_size
        try:
            written = os.write(fd, line)
            while written < len(line):
                written += os.write(fd, line[written:])
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, before)
            raise

    def _send_once(self, message: OutgoingMessage) -> SendResult:
        message_id = f"outbox-{uuid.uuid4().hex}"
        record = {
            "alert_id": message.alert_id,
            "recipient": message.numero,
            "text": message.text,
            "template": message.template,
            "parameters": dict(message.parameters),
            "button_payload": message.button_payload,
            "channel": self.name,
            "time": datetime.now().astimezone().isoformat(timespec="seconds"),
            "id": message_id,
        }
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            try:
                self._append(line)
            except OSError as exc:
                raise BatchStopError(
                    f"Impossible d'écrire dans le fichier de sortie « {self.path} » "
                    f"({os_reason(exc)}) : vérifier le disque et les droits d'accès.",
                    code="outbox_disque",
                ) from exc
            if not self.quiet:
                self._show(message)
        return SendResult(channel=self.name, message_id=message_id)

    def _show(self, message: OutgoingMessage) -> None:
        text = " ".join((message.text or "").split())
        if len(text) > PREVIEW_LENGTH:
            text = text[: PREVIEW_LENGTH - 1] + "…"
        self.console.print(
            f"[bold]Message simulé[/bold] ({escape(_label(str(message.alert_id)))}) pour "
            f"{escape(mask_phone(message.numero))} : {escape(text)}",
            soft_wrap=True,
        )

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                with contextlib.suppress(OSError):
                    os.close(self._fd)
            self._fd = None


def _label(message_id: str) -> str:
    """« alerte 12 », or the message's own name (« confirmation-inscription-7 »)."""
    return message_id if message_id.startswith("confirmation-") else f"alerte {message_id}"


def outbox_lines(path: Path) -> list[dict[str, Any]]:
    """The messages of an outbox file (lines that are not JSON objects are skipped)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    found = []
    for line in raw.splitlines():
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            if isinstance(record, dict):
                found.append(record)
    return found


def remove_outbox_lines(path: Path, drop: Callable[[dict[str, Any]], bool]) -> int:
    """Rewrite the outbox file in place without the messages `drop` selects (retention,
    erasure); the number removed. In place, not through a new file: a running sender keeps
    appending to the same file."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return 0
    with os.fdopen(fd, "r+b") as handle:
        lines = handle.read().splitlines(keepends=True)
        kept = []
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                kept.append(line)
                continue
            if not (isinstance(record, dict) and drop(record)):
                kept.append(line)
        removed = len(lines) - len(kept)
        if removed:
            handle.seek(0)
            handle.write(b"".join(kept))
            handle.truncate()
            handle.flush()
            os.fsync(handle.fileno())
    return removed

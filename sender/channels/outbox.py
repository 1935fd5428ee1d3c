"""The default channel: each message becomes one JSON line in a local file and a printed line.

Used by `make run`, dry runs and demonstrations: nothing leaves the machine. Lines are appended
and flushed under a lock (no fsync: a crash may lose the last lines, never corrupt earlier ones).
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from rich.markup import escape

from sender.channels.base import BatchStopError, Channel, OutgoingMessage, SendResult
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
        self._file: IO[str] | None = None

    def __repr__(self) -> str:
        return f"OutboxChannel(path={str(self.path)!r})"

    def _open(self) -> IO[str]:
        if self._file is None or self._file.closed:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8")
        return self._file

    def _send_once(self, message: OutgoingMessage) -> SendResult:
        message_id = f"outbox-{uuid.uuid4().hex}"
        record = {
            "alert_id": message.alert_id,
            "recipient": message.recipient,
            "text": message.text,
            "template": message.template,
            "parameters": dict(message.parameters),
            "button_payload": message.button_payload,
            "channel": self.name,
            "time": datetime.now().astimezone().isoformat(timespec="seconds"),
            "id": message_id,
        }
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock:
            try:
                handle = self._open()
                handle.write(line)
                handle.flush()
            except OSError as exc:
                raise BatchStopError(
                    f"Impossible d'écrire dans le fichier de sortie « {self.path} » "
                    f"({exc.strerror or type(exc).__name__}) : vérifier le disque et les droits "
                    "d'accès.",
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
            f"{escape(mask_phone(message.recipient))} : {escape(text)}",
            soft_wrap=True,
        )

    def close(self) -> None:
        with self._lock:
            if self._file is not None and not self._file.closed:
                self._file.close()
            self._file = None


def _label(message_id: str) -> str:
    """« alerte 12 », or the message's own name (« confirmation-inscription-7 »)."""
    return message_id if message_id.startswith("confirmation-") else f"alerte {message_id}"

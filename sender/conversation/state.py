"""The sign-up conversations in progress, in the journal file's `conversations` table.

One row per number (WhatsApp id): a number is in one conversation at a time. A conversation
untouched for `LIFETIME` seconds is forgotten: WhatsApp's customer-service window has closed,
so its next question could not be sent anyway.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from sender.conversation.signup import Conversation
from sender.journal.file import JournalFile

LIFETIME = 24 * 3600.0


class Conversations:
    """Read and write the conversations (see the module docstring)."""

    def __init__(self, file: JournalFile, *, clock: Callable[[], float]) -> None:
        self._file = file
        self._clock = clock

    def expire(self) -> int:
        """Forget the abandoned conversations; return how many."""
        with self._file.write() as conn:
            cursor = conn.execute(
                "DELETE FROM conversations WHERE updated_at < ?", (self._clock() - LIFETIME,)
            )
            return cursor.rowcount

    def get(self, sender: str) -> Conversation | None:
        with self._file.read() as conn:
            row = conn.execute(
                "SELECT step, answers, updated_at FROM conversations WHERE sender = ?",
                (sender,),
            ).fetchone()
        if row is None or row[2] < self._clock() - LIFETIME:
            return None
        try:
            answers = json.loads(row[1])
        except ValueError:
            answers = {}
        return Conversation(str(row[0]), {str(k): str(v) for k, v in dict(answers).items()})

    def put(self, sender: str, conversation: Conversation) -> None:
        now = self._clock()
        with self._file.write() as conn:
            conn.execute(
                "INSERT INTO conversations (sender, step, answers, started_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (sender) DO UPDATE SET "
                "step = excluded.step, answers = excluded.answers, "
                "updated_at = excluded.updated_at",
                (sender, conversation.step, json.dumps(conversation.answers), now, now),
            )

    def drop(self, sender: str) -> None:
        with self._file.write() as conn:
            conn.execute("DELETE FROM conversations WHERE sender = ?", (sender,))

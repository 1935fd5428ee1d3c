"""Requests whose person asked for a confirmation message by SMS (`demandes_sms` table of the
journal file), written by the intake's « Je n'ai pas WhatsApp : recevoir un SMS » button.

Only the request's kind and code are kept (the code is a keyed digest of the number and the
time of the request, `consent/codes.py`): the sender recognises its pending requests by their
code. The table is bounded: rows older than `KEEP_SECONDS` are dropped on every write, and at
most `MAX_ROWS` are kept (beyond, the newest request is refused, `SmsRequestsFull`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from sender.journal.file import JournalFile
from sender.journal.states import JournalError

KEEP_SECONDS = 8 * 86_400.0  # longer than any request's validity (ALERTE_CONFIRMATION_JOURS)
MAX_ROWS = 5_000  # far above a day's budget of SMS confirmations

class SmsRequestsFull(JournalError):
    """Too many SMS requests are waiting: this one is not recorded."""


class SmsRequests:
    """The `demandes_sms` table, opened on its own (by the intake) or through a `JournalFile`."""

    def __init__(
        self, source: str | Path | JournalFile, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._file = source if isinstance(source, JournalFile) else JournalFile(
            source, synchronous="FULL")
        self._clock = clock

    def close(self) -> None:
        self._file.close()

    def ask(self, kind: str, code: str) -> None:
        """Record that the person of request (`kind`, `code`) asked for an SMS."""
        now = self._clock()
        with self._file.write() as conn:
            conn.execute("DELETE FROM demandes_sms WHERE asked_at < ?", (now - KEEP_SECONDS,))
            if conn.execute("SELECT 1 FROM demandes_sms WHERE kind = ? AND code = ?",
                            (kind, code)).fetchone():
                return  # asked before: nothing more to record
            (count,) = conn.execute("SELECT COUNT(*) FROM demandes_sms").fetchone()
            if count >= MAX_ROWS:
                raise SmsRequestsFull(
                    "Trop de demandes de SMS en attente : réessayez plus tard.", retryable=True
                )
            conn.execute(
                "INSERT INTO demandes_sms (kind, code, asked_at) VALUES (?, ?, ?) "
                "ON CONFLICT (kind, code) DO NOTHING",
                (kind, code, now),
            )

    def asked(self) -> set[tuple[str, str]]:
        """(kind, code) of every recorded request."""
        with self._file.read() as conn:
            return {(r[0], r[1]) for r in conn.execute("SELECT kind, code FROM demandes_sms")}

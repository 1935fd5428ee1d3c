"""Where webhook events are kept: in the journal file, next to the rows they are about.

`save` stores one POST's events in one transaction, on a connection in `synchronous=FULL`
mode: when it returns, the events are on disk and the webhook may answer `200`.

- every status is kept once per (wamid, status) in `statuts` (Meta's duplicates are recognised
  there) and applied to its `envois` row, found by the callback string (`callback.py`) and
  changed by the rules of `status.py`;
- incoming messages the sender acts on (`incoming.py`) go to `entrants`, where the cycle finds
  them (`optouts.py`, `confirmations.py`).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from sender.delivery.incoming import UNANSWERED_KINDS
from sender.delivery.payload import Events, StatusEvent
from sender.delivery.status import RowView, apply
from sender.journal.callback import Callback, decode
from sender.journal.file import JournalFile

KEEP_SECONDS = 8 * 86_400  # Meta retries a webhook for up to 7 days: keep a day more
# Incoming messages kept per number and rolling hour: the rest are dropped on receipt, so one
# number cannot fill the journal nor make the cycle answer it without end.
PER_NUMBER_PER_HOUR = 20


@dataclass
class SaveReport:
    orphans: int = 0  # statuses of messages this journal did not send (or without callback)
    limited: int = 0  # incoming messages dropped: their number sent too many this hour


@dataclass(frozen=True, slots=True)
class InboxMessage:
    message_id: str
    sender: str  # WhatsApp id (digits)
    kind: str
    received_at: float
    body: str = ""  # the text, or a quick-reply button's payload


def _callback_of_wamid(conn: sqlite3.Connection, wamid: str) -> Callback | None:
    """A status without `biz_opaque_callback_data` (Meta omits it on some statuses): the
    journal row whose accepted message had this wamid, as if its latest copy echoed it."""
    row = conn.execute(
        "SELECT alert_id, ref, attempts FROM envois WHERE message_id = ? AND ref IS NOT NULL",
        (wamid,),
    ).fetchone()
    if row is None:
        return None
    return Callback(row[0], row[1], int(row[2] or 0))


class DeliveryStore:
    """Webhook events in the journal file (see the module docstring)."""

    def __init__(
        self,
        path: str | Path,
        *,
        synchronous: str = "FULL",
        busy_timeout: float = 15.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._file = JournalFile(path, busy_timeout=busy_timeout, synchronous=synchronous)
        self._clock = clock

    @property
    def path(self) -> Path:
        return self._file.path

    def open_or_create(self) -> None:
        self._file.open_or_create()

    def close(self) -> None:
        self._file.close()

    def write(self) -> AbstractContextManager[sqlite3.Connection]:
        """One write transaction on the journal file (for `account.py`'s tables)."""
        return self._file.write()

    def read(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._file.read()

    # -- the webhook side ------------------------------------------------------------------

    def save(self, events: Events) -> SaveReport:
        """Store and apply one POST's events, durably, in one transaction."""
        report = SaveReport()
        if not events.statuses and not events.incoming:
            return report
        now = self._clock()
        with self._file.write() as conn:
            for event in events.statuses:
                self._status(conn, event, now, report)
            for message in events.incoming:
                if self._over_limit(conn, message.sender, now):
                    report.limited += 1
                    continue
                conn.execute(
                    "INSERT OR IGNORE INTO entrants (message_id, sender, kind, body, sent_at, "
                    "received_at, answered_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        message.message_id, message.sender, message.kind, message.body,
                        message.timestamp, now,
                        now if message.kind in UNANSWERED_KINDS else None,  # nothing to answer
                    ),
                )
        return report

    @staticmethod
    def _over_limit(conn: sqlite3.Connection, sender: str, now: float) -> bool:
        count = conn.execute(
            "SELECT COUNT(*) FROM entrants WHERE sender = ? AND received_at > ?",
            (sender, now - 3600),
        ).fetchone()[0]
        return int(count) >= PER_NUMBER_PER_HOUR

    @property
    def file(self) -> JournalFile:
        """The journal file the events live in (the sign-up conversations live there too)."""
        return self._file

    @staticmethod
    def _status(
        conn: sqlite3.Connection, event: StatusEvent, now: float, report: SaveReport
    ) -> None:
        callback = decode(event.callback) or _callback_of_wamid(conn, event.wamid)
        row = None
        if callback is not None:
            row = conn.execute(
                "SELECT numero, state, channel, attempts, delivery, delivery_code, "
                "message_id, claimed_at FROM envois WHERE ref = ? AND alert_id = ?",
                (callback.reference, callback.alert_id),
            ).fetchone()
        if callback is None or row is None:
            # Not a message of this journal: nothing is stored (a flood of made-up ids would
            # otherwise fill the table).
            report.orphans += 1
            return
        # The status of a row's latest copy says that messages claimed up to then came back.
        latest = row is not None and callback is not None and callback.attempt >= int(row[3] or 0)
        cursor = conn.execute(
            "INSERT OR IGNORE INTO statuts (wamid, status, alert_id, ref, attempt, code, "
            "sent_at, received_at, claimed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                event.wamid, event.status,
                callback.alert_id if callback else None,
                callback.reference if callback else None,
                callback.attempt if callback else None,
                None if event.error_code is None else str(event.error_code),
                event.timestamp, now, row[7] if latest and row is not None else None,
            ),
        )
        if cursor.rowcount == 0:  # received before
            return
        numero, state, channel, attempts, delivery, code, message_id, _claimed = row
        change = apply(
            RowView(state, channel, int(attempts or 0), delivery, code, message_id),
            event, callback.attempt,
        )
        if change is None:
            return
        settled = change.state != state
        conn.execute(
            "UPDATE envois SET delivery = ?, delivery_code = ?, delivery_at = ?, state = ?, "
            "message_id = ?, updated_at = ?, "
            "error_code = CASE WHEN ? THEN ? ELSE error_code END, "
            "error_text = CASE WHEN ? THEN ? ELSE error_text END, "
            "final = CASE WHEN ? THEN ? ELSE final END, "
            "sent_at = CASE WHEN ? = 'sent' THEN COALESCE(sent_at, ?) ELSE sent_at END "
            "WHERE alert_id = ? AND numero = ?",
            (
                change.delivery, change.delivery_code, now, change.state, change.message_id,
                now,
                settled, change.error_code,
                settled, change.error_text,
                settled, None if change.final is None else int(change.final),
                change.state, now,
                callback.alert_id, numero,
            ),
        )

    # -- the cycle side --------------------------------------------------------------------

    def messages_not_in_register(self, kinds: Sequence[str]) -> list[InboxMessage]:
        """Incoming messages of these kinds not yet written to the register."""
        marks = ", ".join("?" for _ in kinds)
        with self._file.read() as conn:
            rows = conn.execute(
                "SELECT message_id, sender, kind, received_at, body FROM entrants "  # noqa: S608  # nosec B608 - constant placeholders, values are bound
                f"WHERE recorded_at IS NULL AND kind IN ({marks}) ORDER BY received_at",
                tuple(kinds),
            ).fetchall()
        return [InboxMessage(*row) for row in rows]

    def mark_recorded(self, message_ids: Iterable[str]) -> None:
        now = self._clock()
        with self._file.write() as conn:
            conn.executemany(
                "UPDATE entrants SET recorded_at = ? WHERE message_id = ?",
                [(now, m) for m in message_ids],
            )

    def mark_handled(self, message_ids: Iterable[str]) -> None:
        """Recorded and answered (or deliberately left unanswered): pruned in time."""
        now = self._clock()
        with self._file.write() as conn:
            conn.executemany(
                "UPDATE entrants SET recorded_at = COALESCE(recorded_at, ?), "
                "answered_at = COALESCE(answered_at, ?) WHERE message_id = ?",
                [(now, now, m) for m in message_ids],
            )

    def to_answer(self, kind: str, since: float) -> list[InboxMessage]:
        """Recorded messages of `kind` received since `since` that got no answer yet."""
        with self._file.read() as conn:
            rows = conn.execute(
                "SELECT message_id, sender, kind, received_at FROM entrants WHERE kind = ? "
                "AND recorded_at IS NOT NULL AND answered_at IS NULL AND received_at >= ? "
                "ORDER BY received_at",
                (kind, since),
            ).fetchall()
        return [InboxMessage(*row) for row in rows]

    def mark_answered(self, message_id: str) -> bool:
        """Take the right to answer this message (before sending: at most one answer)."""
        with self._file.write() as conn:
            cursor = conn.execute(
                "UPDATE entrants SET answered_at = ? WHERE message_id = ? "
                "AND answered_at IS NULL",
                (self._clock(), message_id),
            )
            return cursor.rowcount == 1

    def prune(self, keep_seconds: float = KEEP_SECONDS) -> None:
        """Forget statuses and handled messages older than `keep_seconds`."""
        before = self._clock() - keep_seconds
        with self._file.write() as conn:
            conn.execute("DELETE FROM statuts WHERE received_at < ?", (before,))
            conn.execute(
                "DELETE FROM entrants WHERE received_at < ? AND recorded_at IS NOT NULL "
                "AND answered_at IS NOT NULL",
                (before,),
            )

"""The dispatch journal: one local SQLite row per (alert, recipient), written around every send.

A row goes `pending` just BEFORE a send and `sent`, `failed` or `gave_up` just AFTER it, so a
restart after a crash (even `kill -9`) resends only what is not recorded as `sent`; a recipient
already `sent` for an alert is never claimed again. `deferred` holds back recipients beyond the
WhatsApp daily limit until a later cycle.

The journal also holds one lease per alert (`verrous` table), which keeps two dispatchers off
the same alert: `claim` and `defer` check it in their own transaction.

`Journal` holds the queries: rows, leases, the daily count and the summaries. It holds its file
(`journal_file.JournalFile`: connection, schema, transactions); the states, rows and errors are
in `states`.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from sender.config import Settings
from sender.dispatch.journal_file import JournalFile
from sender.dispatch.states import (
    FAILED,
    FINAL_STATES,
    GAVE_UP,
    PENDING,
    SENT,
    AlertSummary,
    JournalEntry,
    JournalError,
    LeaseLost,
    Outcome,
)

LOOKUP_CHUNK = 500  # recipients per IN (...) query, well below SQLite's variable limit

_COLUMNS = (
    "alert_id, recipient, channel, state, attempts, message_id, wa_id, error_code, error_text, "
    "owner, created_at, updated_at, sent_at"
)


def _timestamp(value: datetime | float | None, default: float) -> float:
    if value is None:
        return default
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.astimezone()  # naive = local time
        return value.timestamp()
    return float(value)


def _rows_of(
    conn: sqlite3.Connection, columns: str, alert_id: str, recipients: Sequence[str]
) -> Iterator[tuple]:
    """`columns` of the alert's rows for these recipients, one query per `LOOKUP_CHUNK`."""
    for start in range(0, len(recipients), LOOKUP_CHUNK):
        chunk = recipients[start : start + LOOKUP_CHUNK]
        marks = ", ".join("?" for _ in chunk)
        yield from conn.execute(
            f"SELECT {columns} FROM envois "  # noqa: S608  # nosec B608 - identifiers are our own constants, values are bound
            f"WHERE alert_id = ? AND recipient IN ({marks})",
            (alert_id, *chunk),
        )


class Journal:
    """Per-recipient dispatch journal in one SQLite file (see the module docstring)."""

    def __init__(
        self,
        path: str | Path,
        *,
        busy_timeout: float = 15.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._file = JournalFile(path, busy_timeout=busy_timeout)
        self._clock = clock
        self._unrecorded: dict[tuple[str, str], Outcome] = {}
        self._unreleased: set[tuple[str, str]] = set()  # leases to give back (same reason)
        self._unrecorded_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> Journal:
        """The journal at `settings.journal`."""
        return cls(settings.journal)

    @property
    def path(self) -> Path:
        return self._file.path

    def __repr__(self) -> str:
        return f"Journal(path={str(self.path)!r})"

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def check(self) -> None:
        """Open (and create if needed) the journal now; raise a French JournalError if unusable."""
        self._file.check()

    def close(self) -> None:
        self._file.close()

    # -- rows ------------------------------------------------------------------------------

    def get(self, alert_id: str, recipient: str) -> JournalEntry | None:
        with self._file.read() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM envois WHERE alert_id = ? AND recipient = ?",  # noqa: S608  # nosec B608 - identifiers are our own constants, values are bound
                (alert_id, recipient),
            ).fetchone()
        return JournalEntry(*row) if row else None

    def entries(self, alert_id: str) -> list[JournalEntry]:
        """Every row of an alert (for tests, exports and the CLI; not for 100,000-row loops)."""
        with self._file.read() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM envois WHERE alert_id = ? ORDER BY recipient",  # noqa: S608  # nosec B608 - identifiers are our own constants, values are bound
                (alert_id,),
            ).fetchall()
        return [JournalEntry(*row) for row in rows]

    def lookup(self, alert_id: str, recipients: Sequence[str]) -> dict[str, JournalEntry]:
        """Rows for the given recipients that exist (any number of recipients, chunked)."""
        with self._file.read() as conn:
            return {
                row[1]: JournalEntry(*row)
                for row in _rows_of(conn, _COLUMNS, alert_id, recipients)
            }

    def has_started(self, alert_id: str) -> bool:
        """True once any recipient of the alert has a row (claimed, sent, deferred…)."""
        with self._file.read() as conn:
            row = conn.execute("SELECT 1 FROM envois WHERE alert_id = ? LIMIT 1", (alert_id,))
            return row.fetchone() is not None

    def sent_recipients(self, alert_id: str) -> set[str]:
        with self._file.read() as conn:
            return {
                row[0]
                for row in conn.execute(
                    "SELECT recipient FROM envois WHERE alert_id = ? AND state = 'sent'",
                    (alert_id,),
                )
            }

    def claim(self, alert_id: str, owner: str, routes: Sequence[tuple[str, str]]) -> list[str]:
        """Mark recipients `pending` on their channel BEFORE sending; return those claimed.

        `routes` holds (recipient, channel name) pairs. Rows already `sent` or `failed` are not
        claimed. The lease is checked in the same transaction: raises `LeaseLost` if not held.
        """
        if not routes:
            return []
        now = self._clock()
        claimed: list[str] = []
        with self._write() as conn:
            self._assert_lease(conn, alert_id, owner)
            recipients = [recipient for recipient, _ in routes]
            states = dict(_rows_of(conn, "recipient, state", alert_id, recipients))
            rows = []
            for recipient, channel in routes:
                if states.get(recipient) in FINAL_STATES:
                    continue
                claimed.append(recipient)
                rows.append((alert_id, recipient, channel, owner, now, now))
            conn.executemany(
                "INSERT INTO envois (alert_id, recipient, channel, state, attempts, owner, "
                "created_at, updated_at) VALUES (?, ?, ?, 'pending', 1, ?, ?, ?) "
                "ON CONFLICT (alert_id, recipient) DO UPDATE SET state = 'pending', "
                "channel = excluded.channel, owner = excluded.owner, "
                "attempts = envois.attempts + 1, updated_at = excluded.updated_at, "
                "error_code = NULL, error_text = NULL "
                "WHERE envois.state NOT IN ('sent', 'failed')",
                rows,
            )
        return claimed

    def record(self, alert_id: str, outcomes: Iterable[Outcome]) -> None:
        """Write the results of sends, AFTER them, in one transaction (group commit).

        A `sent` result is always written (it is the truth, even if the lease was lost); a
        failure never overwrites a `sent` row. When the write fails (disk full, read-only, I/O
        error) the results are kept in memory and written first by the next write transaction
        of this process: a message already sent is never claimed again, and nothing is lost
        while the process lives (after a crash it is a `pending` row, like any send in flight).
        """
        batch = [(alert_id, o) for o in outcomes]
        for _, outcome in batch:
            if outcome.state not in (SENT, FAILED, GAVE_UP, PENDING):
                raise ValueError(f"état de résultat inconnu : {outcome.state!r}")
        if not batch:
            return
        try:
            with self._write() as conn:
                self._write_outcomes(conn, batch)
        except JournalError:
            with self._unrecorded_lock:
                for alert, outcome in batch:
                    self._unrecorded[(alert, outcome.recipient)] = outcome
            raise

    @property
    def unrecorded(self) -> int:
        """Results kept in memory because the journal could not be written (disk full…)."""
        with self._unrecorded_lock:
            return len(self._unrecorded)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that first writes what a failed `record` or `release` left
        behind."""
        with self._file.write() as conn:
            with self._unrecorded_lock:
                pending = [(alert, o) for (alert, _), o in self._unrecorded.items()]
                leases = list(self._unreleased)
            if pending:
                self._write_outcomes(conn, pending)
            if leases:
                conn.executemany(
                    "DELETE FROM verrous WHERE alert_id = ? AND owner = ?", leases
                )
            yield conn
        if pending or leases:
            with self._unrecorded_lock:
                for alert, outcome in pending:
                    if self._unrecorded.get((alert, outcome.recipient)) is outcome:
                        del self._unrecorded[(alert, outcome.recipient)]
                self._unreleased.difference_update(leases)

    def _write_outcomes(
        self, conn: sqlite3.Connection, batch: Sequence[tuple[str, Outcome]]
    ) -> None:
        now = self._clock()
        sent, others = [], []
        for alert_id, o in batch:
            if o.state == SENT:
                sent.append((o.channel, o.message_id, o.wa_id, now, now, alert_id, o.recipient))
            else:
                others.append(
                    (o.state, o.channel, o.error_code, o.error_text, now, alert_id, o.recipient)
                )
        if sent:
            conn.executemany(
                "UPDATE envois SET state = 'sent', channel = ?, message_id = ?, wa_id = ?, "
                "error_code = NULL, error_text = NULL, sent_at = ?, updated_at = ? "
                "WHERE alert_id = ? AND recipient = ?",
                sent,
            )
        if others:
            conn.executemany(
                "UPDATE envois SET state = ?, channel = ?, error_code = ?, error_text = ?, "
                "updated_at = ? WHERE alert_id = ? AND recipient = ? AND state != 'sent'",
                others,
            )

    def defer(self, alert_id: str, owner: str, recipients: Sequence[str], reason: str) -> int:
        """Hold recipients back (daily limit) for a later dispatch; return how many rows."""
        if not recipients:
            return 0
        now = self._clock()
        with self._write() as conn:
            self._assert_lease(conn, alert_id, owner)
            before = conn.total_changes
            conn.executemany(
                "INSERT INTO envois (alert_id, recipient, channel, state, attempts, owner, "
                "error_code, error_text, created_at, updated_at) "
                "VALUES (?, ?, NULL, 'deferred', 0, ?, 'plafond', ?, ?, ?) "
                "ON CONFLICT (alert_id, recipient) DO UPDATE SET state = 'deferred', "
                "owner = excluded.owner, error_code = excluded.error_code, "
                "error_text = excluded.error_text, updated_at = excluded.updated_at "
                "WHERE envois.state NOT IN ('sent', 'failed')",
                [(alert_id, r, owner, reason, now, now) for r in recipients],
            )
            return conn.total_changes - before

    # -- leases ----------------------------------------------------------------------------

    def acquire(
        self, alert_id: str, owner: str, ttl_seconds: float, *, replace: str | None = None
    ) -> bool:
        """Take or renew the alert's lease for `ttl_seconds`; False if another owner holds it.

        Atomic across threads and processes. An expired lease (crashed owner) is taken over;
        `replace` also takes over a live lease if (and only if) `replace` still holds it — for
        an owner known to be dead (same host, process gone).
        """
        now = self._clock()
        with self._write() as conn:
            row = conn.execute(
                "SELECT owner, expires_at FROM verrous WHERE alert_id = ?", (alert_id,)
            ).fetchone()
            if row is not None and row[0] not in (owner, replace) and row[1] > now:
                return False
            conn.execute(
                "INSERT INTO verrous (alert_id, owner, acquired_at, expires_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (alert_id) DO UPDATE SET "
                "owner = excluded.owner, expires_at = excluded.expires_at, "
                "acquired_at = CASE WHEN verrous.owner = excluded.owner "
                "THEN verrous.acquired_at ELSE excluded.acquired_at END",
                (alert_id, owner, now, now + ttl_seconds),
            )
            return True

    def renew(self, alert_id: str, owner: str, ttl_seconds: float) -> bool:
        """Extend a lease this owner still holds (even just expired, if nobody took it)."""
        now = self._clock()
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE verrous SET expires_at = ? WHERE alert_id = ? AND owner = ?",
                (now + ttl_seconds, alert_id, owner),
            )
            return cursor.rowcount == 1

    def release(self, alert_id: str, owner: str) -> bool:
        """Give the lease back; False if this owner did not hold it (any more). When the journal
        cannot be written (disk full…), the release is remembered and done by the next write
        transaction of this process, so the next pass is not locked out until the lease expires.
        """
        try:
            with self._write() as conn:
                cursor = conn.execute(
                    "DELETE FROM verrous WHERE alert_id = ? AND owner = ?", (alert_id, owner)
                )
                return cursor.rowcount == 1
        except JournalError:
            with self._unrecorded_lock:
                self._unreleased.add((alert_id, owner))
            raise

    def holder(self, alert_id: str) -> str | None:
        """The owner of a live lease on the alert, or None."""
        with self._file.read() as conn:
            row = conn.execute(
                "SELECT owner FROM verrous WHERE alert_id = ? AND expires_at > ?",
                (alert_id, self._clock()),
            ).fetchone()
        return row[0] if row else None

    def _assert_lease(self, conn: sqlite3.Connection, alert_id: str, owner: str) -> None:
        row = conn.execute(
            "SELECT owner, expires_at FROM verrous WHERE alert_id = ?", (alert_id,)
        ).fetchone()
        if row is None or row[0] != owner or row[1] <= self._clock():
            raise LeaseLost(
                f"Le verrou d'envoi de l'alerte {alert_id} a expiré ou a été repris par un "
                "autre processus : envoi arrêté pour ne pas doubler les messages."
            )

    # -- daily limit and summaries ---------------------------------------------------------

    def _window_query(self, channel: str | None) -> tuple[str, tuple]:
        where = "((state = 'sent' AND sent_at >= ?) OR (state = 'pending' AND updated_at >= ?))"
        if channel is None:
            return where, ()
        return where + " AND channel = ?", (channel,)

    def daily_unique_recipients(
        self, since: datetime | float | None = None, channel: str | None = None
    ) -> int:
        """Unique numbers contacted since `since` (default: the last 24 h), on `channel` if given.

        Counts `sent` rows and `pending` ones (possibly sent before a crash), across all alerts:
        this is what the WhatsApp messaging-limit tier counts.
        """
        start = _timestamp(since, self._clock() - 86_400)
        where, extra = self._window_query(channel)
        with self._file.read() as conn:
            (count,) = conn.execute(
                f"SELECT COUNT(DISTINCT recipient) FROM envois WHERE {where}",  # noqa: S608  # nosec B608 - identifiers are our own constants, values are bound
                (start, start, *extra),
            ).fetchone()
        return int(count)

    def contacted_since(
        self, since: datetime | float | None = None, channel: str | None = None
    ) -> set[str]:
        """The numbers counted by `daily_unique_recipients` (contacting them again is free)."""
        start = _timestamp(since, self._clock() - 86_400)
        where, extra = self._window_query(channel)
        with self._file.read() as conn:
            return {
                row[0]
                for row in conn.execute(
                    f"SELECT DISTINCT recipient FROM envois WHERE {where}",  # noqa: S608  # nosec B608 - identifiers are our own constants, values are bound
                    (start, start, *extra),
                )
            }

    def summary(self, alert_id: str) -> AlertSummary:
        """Counts by state and French reasons of `failed` / `gave_up` rows for one alert."""
        with self._file.read() as conn:
            counts = dict(
                conn.execute(
                    "SELECT state, COUNT(*) FROM envois WHERE alert_id = ? GROUP BY state",
                    (alert_id,),
                ).fetchall()
            )
            failures = conn.execute(
                "SELECT COALESCE(error_text, 'raison inconnue'), COUNT(*) AS n FROM envois "
                "WHERE alert_id = ? AND state IN ('failed', 'gave_up') "
                "GROUP BY 1 ORDER BY n DESC, 1",
                (alert_id,),
            ).fetchall()
        return AlertSummary(alert_id, counts, [(text, int(n)) for text, n in failures])

    def send_times(self, alert_ids: Sequence[str]) -> dict[str, tuple[float, float, int]]:
        """First and last `sent_at` and the number of `sent` rows, per alert that has any (for
        the report to the préfecture). Times are Unix timestamps."""
        found: dict[str, tuple[float, float, int]] = {}
        ids = list(alert_ids)
        with self._file.read() as conn:
            for start in range(0, len(ids), LOOKUP_CHUNK):
                chunk = ids[start : start + LOOKUP_CHUNK]
                marks = ", ".join("?" for _ in chunk)
                for alert_id, first, last, count in conn.execute(
                    "SELECT alert_id, MIN(sent_at), MAX(sent_at), COUNT(*) FROM envois "  # noqa: S608  # nosec B608 - identifiers are our own constants, values are bound
                    f"WHERE state = 'sent' AND sent_at IS NOT NULL AND alert_id IN ({marks}) "
                    "GROUP BY alert_id",
                    tuple(chunk),
                ):
                    found[alert_id] = (float(first), float(last), int(count))
        return found

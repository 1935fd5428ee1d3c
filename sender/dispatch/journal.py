"""The dispatch journal: one local SQLite row per (alert, recipient), written around every send.

A row goes `pending` just BEFORE a send and `sent`, `failed` or `gave_up` just AFTER it, so a
restart after a crash (even `kill -9`) resends only what is not recorded as `sent`; a recipient
already `sent` for an alert is never claimed again. `deferred` holds back recipients beyond the
WhatsApp daily limit until a later cycle.

`Journal` holds the row queries, the daily count and the summaries; the states, rows and errors
are in `states`, the file and its transactions in `journal_file`, the lease per alert (checked
by `claim` and `defer` in the same transaction) in `leases`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from sender.config import Settings
from sender.dispatch.leases import JournalLeases
from sender.dispatch.states import (
    DEFERRED,
    FAILED,
    FINAL_STATES,
    GAVE_UP,
    PENDING,
    SENT,
    STATES,
    AlertSummary,
    JournalBusy,
    JournalCorrupt,
    JournalEntry,
    JournalError,
    LeaseLost,
    Outcome,
)

__all__ = [
    "DEFERRED",
    "FAILED",
    "FINAL_STATES",
    "GAVE_UP",
    "PENDING",
    "SENT",
    "STATES",
    "AlertSummary",
    "Journal",
    "JournalBusy",
    "JournalCorrupt",
    "JournalEntry",
    "JournalError",
    "LeaseLost",
    "Outcome",
]

_CHUNK = 500  # recipients per IN (...) query, well below SQLite's variable limit

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


def _chunks(items: Sequence[str], size: int = _CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Journal(JournalLeases):
    """Per-recipient dispatch journal in one SQLite file (see the module docstring)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> Journal:
        """The journal at `settings.journal`."""
        return cls(settings.journal)

    def __repr__(self) -> str:
        return f"Journal(path={str(self.path)!r})"

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- rows ------------------------------------------------------------------------------

    def get(self, alert_id: str, recipient: str) -> JournalEntry | None:
        with self._read() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM envois WHERE alert_id = ? AND recipient = ?",  # noqa: S608  # nosec B608 - identifiers are our own constants, values are bound
                (alert_id, recipient),
            ).fetchone()
        return JournalEntry(*row) if row else None

    def entries(self, alert_id: str) -> list[JournalEntry]:
        """Every row of an alert (for tests, exports and the CLI; not for 100,000-row loops)."""
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM envois WHERE alert_id = ? ORDER BY recipient",  # noqa: S608  # nosec B608 - identifiers are our own constants, values are bound
                (alert_id,),
            ).fetchall()
        return [JournalEntry(*row) for row in rows]

    def lookup(self, alert_id: str, recipients: Sequence[str]) -> dict[str, JournalEntry]:
        """Rows for the given recipients that exist (any number of recipients, chunked)."""
        found: dict[str, JournalEntry] = {}
        with self._read() as conn:
            for chunk in _chunks(recipients):
                marks = ", ".join("?" for _ in chunk)
                for row in conn.execute(
                    f"SELECT {_COLUMNS} FROM envois "  # noqa: S608  # nosec B608 - identifiers are our own constants, values are bound
                    f"WHERE alert_id = ? AND recipient IN ({marks})",
                    (alert_id, *chunk),
                ):
                    found[row[1]] = JournalEntry(*row)
        return found

    def sent_recipients(self, alert_id: str) -> set[str]:
        with self._read() as conn:
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
            states: dict[str, str] = {}
            recipients = [recipient for recipient, _ in routes]
            for chunk in _chunks(recipients):
                marks = ", ".join("?" for _ in chunk)
                states.update(
                    conn.execute(
                        "SELECT recipient, state FROM envois "  # noqa: S608  # nosec B608 - identifiers are our own constants, values are bound
                        f"WHERE alert_id = ? AND recipient IN ({marks})",
                        (alert_id, *chunk),
                    ).fetchall()
                )
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
        failure never overwrites a `sent` row.
        """
        now = self._clock()
        sent, others = [], []
        for o in outcomes:
            if o.state == SENT:
                sent.append((o.channel, o.message_id, o.wa_id, now, now, alert_id, o.recipient))
            else:
                if o.state not in (FAILED, GAVE_UP, PENDING):
                    raise ValueError(f"état de résultat inconnu : {o.state!r}")
                others.append(
                    (o.state, o.channel, o.error_code, o.error_text, now, alert_id, o.recipient)
                )
        if not sent and not others:
            return
        with self._write() as conn:
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
        with self._read() as conn:
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
        with self._read() as conn:
            return {
                row[0]
                for row in conn.execute(
                    f"SELECT DISTINCT recipient FROM envois WHERE {where}",  # noqa: S608  # nosec B608 - identifiers are our own constants, values are bound
                    (start, start, *extra),
                )
            }

    def summary(self, alert_id: str) -> AlertSummary:
        """Counts by state and French reasons of `failed` / `gave_up` rows for one alert."""
        with self._read() as conn:
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
        with self._read() as conn:
            for chunk in _chunks(list(alert_ids)):
                marks = ", ".join("?" for _ in chunk)
                for alert_id, first, last, count in conn.execute(
                    "SELECT alert_id, MIN(sent_at), MAX(sent_at), COUNT(*) FROM envois "  # noqa: S608  # nosec B608 - identifiers are our own constants, values are bound
                    f"WHERE state = 'sent' AND sent_at IS NOT NULL AND alert_id IN ({marks}) "
                    "GROUP BY alert_id",
                    tuple(chunk),
                ):
                    found[alert_id] = (float(first), float(last), int(count))
        return found

"""The dispatch journal: one local SQLite row per (alert, recipient), written around every send.

A row goes `pending` just BEFORE a send and `sent`, `failed`, `gave_up` or `uncertain` just
AFTER it, so a restart after a crash (even `kill -9`) knows what may have left; a recipient
already `sent` for an alert is never claimed again. Whether a `pending` or `uncertain` row is
sent again is the dispatcher's decision (`decisions.py`): it counts the possible copies.
`deferred` holds back recipients beyond the WhatsApp daily limit until a later cycle.

Each claim gives the row a callback string (`journal/callback.py`) that WhatsApp echoes in the
status webhooks; `delivery/store.py` applies those statuses to the same rows.

The journal also holds one lease per alert (`verrous` table), which keeps two dispatchers off
the same alert: `claim` and `defer` check it in their own transaction.

`Journal` holds the queries: rows, leases, the daily count and the summaries. It holds its file
(`file.JournalFile`: connection, schema, transactions); the states, rows and errors are
in `states`.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from sender.config import Settings
from sender.journal import counts
from sender.journal.callback import encode, reference
from sender.journal.file import JournalFile
from sender.journal.states import (
    FAILED,
    GAVE_UP,
    PENDING,
    SENT,
    UNCERTAIN,
    AlertSummary,
    JournalEntry,
    JournalError,
    LeaseLost,
    Outcome,
)

LOOKUP_CHUNK = 500  # recipients per IN (...) query, well below SQLite's variable limit

_COLUMNS = (
    "alert_id, numero, channel, state, attempts, message_id, wa_id, error_code, error_text, "
    "owner, updated_at, sent_at, uncertain, final, delivery, delivery_code, fallback, "
    "claimed_at"
)


def _entry(row: Sequence) -> JournalEntry:
    *head, uncertain, final, delivery, delivery_code, fallback, claimed_at = row
    return JournalEntry(
        *head,
        uncertain=int(uncertain or 0),
        final=final is None or bool(final),
        delivery=delivery,
        delivery_code=delivery_code,
        fallback=bool(fallback),
        claimed_at=claimed_at,
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
    conn: sqlite3.Connection, columns: str, alert_id: str, numeros: Sequence[str]
) -> Iterator[tuple]:
    """`columns` of the alert's rows for these recipients, one query per `LOOKUP_CHUNK`."""
    for start in range(0, len(numeros), LOOKUP_CHUNK):
        chunk = numeros[start : start + LOOKUP_CHUNK]
        marks = ", ".join("?" for _ in chunk)
        yield from conn.execute(
            f"SELECT {columns} FROM envois "  # noqa: S608  # nosec B608 - identifiers are our own constants, values are bound
            f"WHERE alert_id = ? AND numero IN ({marks})",
            (alert_id, *chunk),
        )


def _after(prefix: str) -> str:
    """The first string after every string starting with `prefix` (a key range's end)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _follow_up_condition(code_count: int) -> str:
    """SQL condition of the rows a status webhook left to send again: `gave_up` (a transient
    `failed` status), or WhatsApp refusals with one of `code_count` bound codes."""
    marks = ", ".join("?" for _ in range(code_count)) or "NULL"
    return (
        "state IN ('gave_up', 'failed', 'uncertain') AND (state = 'gave_up' OR "
        f"(state = 'failed' AND channel = 'whatsapp' AND error_code IN ({marks})))"
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
        self._key: bytes | None = None
        self._held_in_memory: dict[tuple[str, str], Outcome] = {}
        self._unreleased: set[tuple[str, str]] = set()  # leases to give back (same reason)
        self._held_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> Journal:
        """The journal at `settings.journal`."""
        return cls(settings.journal)

    @property
    def path(self) -> Path:
        return self._file.path

    @property
    def file(self) -> JournalFile:
        """The journal's SQLite file (for the small tables kept beside it: `asked.py`)."""
        return self._file

    @property
    def clock(self) -> Callable[[], float]:
        """The wall clock of this journal (a simulated one in benchmarks)."""
        return self._clock

    def __repr__(self) -> str:
        return f"Journal(path={str(self.path)!r})"

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def open_or_create(self) -> None:
        """Open (and create if needed) the journal now; raise a French JournalError if unusable."""
        self._file.open_or_create()

    def close(self) -> None:
        self._file.close()

    # -- rows ------------------------------------------------------------------------------

    def get(self, alert_id: str, numero: str) -> JournalEntry | None:
        with self._file.read() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM envois WHERE alert_id = ? AND numero = ?",  # noqa: S608  # nosec B608 - identifiers are our own constants, values are bound
                (alert_id, numero),
            ).fetchone()
        return _entry(row) if row else None

    def entries(self, alert_id: str) -> list[JournalEntry]:
        """Every row of an alert (for tests, exports and the CLI; not for 100,000-row loops)."""
        with self._file.read() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM envois WHERE alert_id = ? ORDER BY numero",  # noqa: S608  # nosec B608 - identifiers are our own constants, values are bound
                (alert_id,),
            ).fetchall()
        return [_entry(row) for row in rows]

    def lookup(self, alert_id: str, numeros: Sequence[str]) -> dict[str, JournalEntry]:
        """Rows for the given recipients that exist (any number of recipients, chunked)."""
        with self._file.read() as conn:
            return {row[1]: _entry(row) for row in _rows_of(conn, _COLUMNS, alert_id, numeros)}

    def has_started(self, alert_id: str) -> bool:
        """True once any recipient of the alert has a row (claimed, sent, deferred…)."""
        with self._file.read() as conn:
            row = conn.execute("SELECT 1 FROM envois WHERE alert_id = ? LIMIT 1", (alert_id,))
            return row.fetchone() is not None

    def callback_key(self) -> bytes:
        """The key of the recipients' references in callback strings (created once per file)."""
        if self._key is None:
            with self._write() as conn:
                conn.execute(
                    "INSERT OR IGNORE INTO _journal (cle, valeur) VALUES ('cle_rappel', ?)",
                    (secrets.token_hex(32),),
                )
                (value,) = conn.execute(
                    "SELECT valeur FROM _journal WHERE cle = 'cle_rappel'"
                ).fetchone()
            self._key = bytes.fromhex(value)
        return self._key

    def claim(
        self,
        alert_id: str,
        owner: str,
        routes: Sequence[tuple[str, str]],
        *,
        reclaim: Collection[str] = (),
    ) -> dict[str, str | None]:
        """Mark recipients `pending` on their channel BEFORE sending; return those claimed, each
        with the callback string its message must carry.

        `routes` holds (recipient, channel name) pairs. Rows already `sent` are never claimed;
        `failed` rows only when listed in `reclaim` (SMS fallback due, alert put back to « à
        diffuser »). A `pending` row claimed again counts one more possible copy. The lease is
        checked in the same transaction: raises `LeaseLost` if not held.
        """
        if not routes:
            return {}
        now = self._clock()
        key = self.callback_key()
        claimed: dict[str, str | None] = {}
        with self._write() as conn:
            self._assert_lease(conn, alert_id, owner)
            numeros = [numero for numero, _ in routes]
            current = {
                r: (state, attempts)
                for r, state, attempts in _rows_of(
                    conn, "numero, state, attempts", alert_id, numeros
                )
            }
            rows = []
            for numero, channel in routes:
                state, attempts = current.get(numero, (None, 0))
                if state == SENT or (state == FAILED and numero not in reclaim):
                    continue
                ref = reference(key, numero)
                claimed[numero] = encode(alert_id, ref, int(attempts or 0) + 1)
                rows.append((
                    alert_id, numero, channel, owner, now, now, now, ref,
                    int(numero in reclaim),
                ))
            conn.executemany(
                "INSERT INTO envois (alert_id, numero, channel, state, attempts, owner, "
                "created_at, updated_at, claimed_at, ref) "
                "VALUES (?, ?, ?, 'pending', 1, ?, ?, ?, ?, ?) "
                "ON CONFLICT (alert_id, numero) DO UPDATE SET state = 'pending', "
                "channel = excluded.channel, owner = excluded.owner, "
                "attempts = envois.attempts + 1, updated_at = excluded.updated_at, "
                "claimed_at = excluded.claimed_at, "
                "ref = excluded.ref, error_code = NULL, error_text = NULL, final = NULL, "
                "uncertain = envois.uncertain + (envois.state = 'pending'), "
                "delivery = CASE WHEN envois.delivery = 'failed' THEN NULL "
                "ELSE envois.delivery END "
                "WHERE envois.state != 'sent' AND (envois.state != 'failed' OR ?)",
                rows,
            )
        return claimed

    def record(self, alert_id: str, outcomes: Iterable[Outcome]) -> None:
        """Write the results of sends, AFTER them, in one transaction (group commit).

        A `sent` result is always written (it is the truth, even if the lease was lost), except
        over a `failed` status webhook of the same WhatsApp message that arrived first; a
        failure never overwrites a `sent` row, nor a WhatsApp row a status webhook already
        settled. An `uncertain` result adds one possible copy.

        When the write fails (disk full, read-only, I/O error) the results are kept in memory
        and written first by the next write transaction of this process: a message already sent
        is never claimed again, and nothing is lost while the process lives (after a crash it is
        a `pending` row, like any send in flight).
        """
        batch = [(alert_id, o) for o in outcomes]
        for _, outcome in batch:
            if outcome.state not in (SENT, FAILED, GAVE_UP, PENDING, UNCERTAIN):
                raise ValueError(f"état de résultat inconnu : {outcome.state!r}")
        if not batch:
            return
        try:
            with self._write() as conn:
                self._write_outcomes(conn, batch)
        except JournalError:
            with self._held_lock:
                for alert, outcome in batch:
                    self._held_in_memory[(alert, outcome.numero)] = outcome
            raise

    @property
    def results_held_in_memory(self) -> int:
        """Results kept in memory because the journal could not be written (disk full…)."""
        with self._held_lock:
            return len(self._held_in_memory)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that first writes what a failed `record` or `release` left
        behind."""
        with self._file.write() as conn:
            with self._held_lock:
                pending = [(alert, o) for (alert, _), o in self._held_in_memory.items()]
                leases = list(self._unreleased)
            if pending:
                self._write_outcomes(conn, pending)
            if leases:
                conn.executemany(
                    "DELETE FROM verrous WHERE alert_id = ? AND owner = ?", leases
                )
            yield conn
        if pending or leases:
            with self._held_lock:
                for alert, outcome in pending:
                    if self._held_in_memory.get((alert, outcome.numero)) is outcome:
                        del self._held_in_memory[(alert, outcome.numero)]
                self._unreleased.difference_update(leases)

    def _write_outcomes(
        self, conn: sqlite3.Connection, batch: Sequence[tuple[str, Outcome]]
    ) -> None:
        now = self._clock()
        sent, others = [], []
        for alert_id, o in batch:
            if o.state == SENT:
                sent.append((
                    o.channel, o.channel, o.channel, o.message_id, o.wa_id, now, now,
                    int(o.fallback), o.channel, alert_id, o.numero,
                ))
            else:
                others.append((
                    o.state, o.channel, o.error_code, o.error_text, int(o.final), now,
                    o.state, alert_id, o.numero, o.channel,
                ))
        if sent:
            totals: dict[tuple[str, str], list[int]] = {}
            for alert_id, o in batch:
                if o.state == SENT:
                    total = totals.setdefault((counts.kind_of(alert_id), o.channel), [0, 0])
                    total[0] += 1
                    total[1] += o.parts
            counts.add(conn, now, [(k, c, m, p) for (k, c), (m, p) in totals.items()])
            conn.executemany(
                "UPDATE envois SET "
                "state = CASE WHEN ? = 'whatsapp' AND delivery = 'failed' THEN state "
                "ELSE 'sent' END, "
                "channel = CASE WHEN ? = 'whatsapp' AND delivery = 'failed' THEN channel "
                "ELSE ? END, "
                "message_id = ?, wa_id = ?, sent_at = ?, updated_at = ?, "
                "error_code = CASE WHEN state = 'failed' AND delivery = 'failed' "
                "THEN error_code END, "
                "error_text = CASE WHEN state = 'failed' AND delivery = 'failed' "
                "THEN error_text END, "
                "fallback = ?, "
                "delivery = CASE WHEN ? = 'whatsapp' THEN COALESCE(delivery, 'accepted') "
                "ELSE delivery END "
                "WHERE alert_id = ? AND numero = ?",
                sent,
            )
        if others:
            conn.executemany(
                "UPDATE envois SET state = ?, channel = ?, error_code = ?, error_text = ?, "
                "final = ?, updated_at = ?, uncertain = uncertain + (? = 'uncertain') "
                "WHERE alert_id = ? AND numero = ? AND state != 'sent' "
                "AND NOT (? = 'whatsapp' AND delivery IS NOT NULL)",
                others,
            )

    def defer(self, alert_id: str, owner: str, numeros: Sequence[str], reason: str) -> int:
        """Hold recipients back (daily limit) for a later dispatch; return how many rows."""
        if not numeros:
            return 0
        now = self._clock()
        with self._write() as conn:
            self._assert_lease(conn, alert_id, owner)
            before = conn.total_changes
            conn.executemany(
                "INSERT INTO envois (alert_id, numero, channel, state, attempts, owner, "
                "error_code, error_text, created_at, updated_at) "
                "VALUES (?, ?, NULL, 'deferred', 0, ?, 'plafond', ?, ?, ?) "
                "ON CONFLICT (alert_id, numero) DO UPDATE SET state = 'deferred', "
                "owner = excluded.owner, error_code = excluded.error_code, "
                "error_text = excluded.error_text, updated_at = excluded.updated_at "
                "WHERE envois.state NOT IN ('sent', 'failed')",
                [(alert_id, r, owner, reason, now, now) for r in numeros],
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
            with self._held_lock:
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
        where = (
            "((state = 'sent' AND sent_at >= ?) "
            "OR (state IN ('pending', 'uncertain') AND updated_at >= ?))"
        )
        if channel is None:
            return where, ()
        return where + " AND channel = ?", (channel,)

    def contacted_since(
        self, since: datetime | float | None = None, channel: str | None = None
    ) -> set[str]:
        """Unique numbers contacted since `since` (default: the last 24 h), on `channel` if given.

        Counts `sent` rows and `pending` or `uncertain` ones (possibly sent), across all alerts:
        this is what the WhatsApp messaging-limit tier counts (contacting them again is free).
        """
        start = _timestamp(since, self._clock() - 86_400)
        where, extra = self._window_query(channel)
        with self._file.read() as conn:
            return {
                row[0]
                for row in conn.execute(
                    f"SELECT DISTINCT numero FROM envois WHERE {where}",  # noqa: S608  # nosec B608 - identifiers are our own constants, values are bound
                    (start, start, *extra),
                )
            }

    # -- messages that are not alerts (confirmations) ------------------------------------------

    def settled_with_prefix(self, prefix: str) -> dict[tuple[str, str], tuple[str, str | None]]:
        """(message id, recipient) → (state, French error) of the `sent` and `failed` rows whose
        id starts with `prefix`."""
        with self._file.read() as conn:
            return {
                (row[0], row[1]): (row[2], row[3])
                for row in conn.execute(
                    "SELECT alert_id, numero, state, error_text FROM envois "
                    "WHERE substr(alert_id, 1, ?) = ? AND state IN ('sent', 'failed')",
                    (len(prefix), prefix),
                )
            }

    def recent_by_recipient(
        self, prefix: str, since: datetime | float | None = None
    ) -> dict[str, int]:
        """Messages whose id starts with `prefix`, per recipient, sent (or maybe sent) since
        `since` (default: the last 24 h)."""
        start = _timestamp(since, self._clock() - 86_400)
        where, _ = self._window_query(None)
        with self._file.read() as conn:
            return dict(
                conn.execute(
                    "SELECT numero, COUNT(*) FROM envois WHERE substr(alert_id, 1, ?) = ? "  # noqa: S608  # nosec B608 - identifiers are our own constants, values are bound
                    f"AND {where} GROUP BY numero",
                    (len(prefix), prefix, start, start),
                ).fetchall()
            )

    def confirmation_history(
        self, prefix: str, since: float
    ) -> list[tuple[str, str, str | None, float]]:
        """(message id, number, channel, time) of every message whose id starts with `prefix`
        sent (or maybe sent: pending, uncertain) since `since`, oldest first."""
        with self._file.read() as conn:
            return [
                (row[0], row[1], row[2], float(row[3]))
                for row in conn.execute(
                    "SELECT alert_id, numero, channel, COALESCE(sent_at, updated_at) AS t "
                    "FROM envois WHERE alert_id >= ? AND alert_id < ? "  # the key's range
                    "AND state IN ('sent', 'pending', 'uncertain') "
                    "AND COALESCE(sent_at, updated_at) >= ? ORDER BY t",
                    (prefix, _after(prefix), since),
                )
            ]

    def attempted_with_prefix(self, prefix: str) -> set[tuple[str, str]]:
        """(message id, number) of the messages whose id starts with `prefix` that went out or
        may have (every state but `gave_up` and `deferred`, which were never sent)."""
        with self._file.read() as conn:
            return {
                (row[0], row[1])
                for row in conn.execute(
                    "SELECT alert_id, numero FROM envois WHERE alert_id >= ? AND alert_id < ? "
                    "AND state NOT IN ('gave_up', 'deferred')",
                    (prefix, _after(prefix)),
                )
            }

    # -- counts per day, and small settings ------------------------------------------------

    def add_count(self, kind: str, channel: str, messages: int = 1, parts: int = 0) -> None:
        """Count messages sent outside the dispatcher (acknowledgements)."""
        with self._write() as conn:
            counts.add(conn, self._clock(), [(kind, channel, messages, parts)])

    def counts_since(self, first_day: str) -> list[counts.Count]:
        """Messages and SMS parts per kind and channel since `first_day` (`2026-12-01`)."""
        with self._file.read() as conn:
            return counts.since(conn, first_day)

    def get_value(self, key: str) -> str | None:
        with self._file.read() as conn:
            return counts.get_value(conn, key)

    def set_value(self, key: str, value: str) -> None:
        with self._write() as conn:
            counts.set_value(conn, key, value)

    def held_confirmations(self) -> dict[tuple[str, str], str]:
        """(message id, number) → why the budget holds that confirmation (last cycle)."""
        with self._file.read() as conn:
            return {
                (row[0], row[1]): row[2]
                for row in conn.execute(
                    "SELECT message_id, numero, motif FROM confirmations_reportees"
                )
            }

    def set_held_confirmations(self, held: dict[tuple[str, str], str]) -> None:
        """Replace the confirmations held by the budget (one cycle's view)."""
        with self._write() as conn:
            conn.execute("DELETE FROM confirmations_reportees")
            conn.executemany(
                "INSERT INTO confirmations_reportees (message_id, numero, motif) "
                "VALUES (?, ?, ?)",
                [(m, n, motif) for (m, n), motif in held.items()],
            )

    def summary(self, alert_id: str) -> AlertSummary:
        """Counts by state, French reasons of `failed` / `gave_up` rows, and what the status
        webhooks said (delivered, read) for one alert."""
        with self._file.read() as conn:
            rows = conn.execute(
                "SELECT state, COUNT(*), SUM(delivery IN ('delivered', 'read')), "
                "SUM(delivery = 'read'), SUM(fallback) FROM envois WHERE alert_id = ? "
                "GROUP BY state",
                (alert_id,),
            ).fetchall()
            failures = conn.execute(
                "SELECT COALESCE(error_text, 'raison inconnue'), COUNT(*) AS n FROM envois "
                "WHERE alert_id = ? AND state IN ('failed', 'gave_up') "
                "GROUP BY 1 ORDER BY n DESC, 1",
                (alert_id,),
            ).fetchall()
        counts = {state: int(n) for state, n, *_ in rows}
        by_sms = sum(int(sms or 0) for state, _n, _d, _r, sms in rows if state == SENT)
        return AlertSummary(
            alert_id,
            counts,
            [(text, int(n)) for text, n in failures],
            delivered=sum(int(d or 0) for _s, _n, d, _r, _f in rows),
            read=sum(int(r or 0) for _s, _n, _d, r, _f in rows),
            by_sms=by_sms,
        )

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

    def reached(self, alert_id: str) -> list[str]:
        """The numbers one alert reached (`sent`: accepted by WhatsApp or the SMS gateway),
        the audience of its follow-ups."""
        with self._file.read() as conn:
            return [
                row[0]
                for row in conn.execute(
                    "SELECT numero FROM envois WHERE alert_id = ? AND state = 'sent' "
                    "ORDER BY numero",
                    (alert_id,),
                )
            ]

    def without_whatsapp(self, since: float) -> set[str]:
        """Numbers reached by the SMS fallback since `since` (WhatsApp could not reach them):
        the SMS share of an alert's estimated cost."""
        with self._file.read() as conn:
            return {
                row[0]
                for row in conn.execute(
                    "SELECT DISTINCT numero FROM envois WHERE fallback = 1 AND updated_at >= ?",
                    (since,),
                )
            }

    # -- what the status webhooks changed --------------------------------------------------

    def alerts_changed_since(self, since: float) -> set[str]:
        """Alerts with a row written (send, status webhook) at or after `since`."""
        with self._file.read() as conn:
            return {
                row[0]
                for row in conn.execute(
                    "SELECT DISTINCT alert_id FROM envois WHERE updated_at >= ?", (since,)
                )
            }

    def follow_ups(self, since: float, sms_codes: Collection[str] = ()) -> set[str]:
        """Alerts with rows updated since `since` that a status webhook left to send again:
        `gave_up` (a transient `failed` status) or, when `sms_codes` is given (an SMS fallback
        is configured), WhatsApp refusals with one of these codes."""
        with self._file.read() as conn:
            return {
                row[0]
                for row in conn.execute(
                    "SELECT DISTINCT alert_id FROM envois INDEXED BY envois_suivi "  # noqa: S608  # nosec B608 - constant placeholders, values are bound
                    f"WHERE updated_at >= ? AND {_follow_up_condition(len(sms_codes))}",
                    (since, *sms_codes),
                )
            }

    def follow_up_recipients(self, alert_id: str, sms_codes: Collection[str] = ()) -> list[str]:
        """The recipients of one alert `follow_ups` found (see there)."""
        with self._file.read() as conn:
            return [
                row[0]
                for row in conn.execute(
                    "SELECT numero FROM envois INDEXED BY envois_suivi "  # noqa: S608  # nosec B608 - constant placeholders, values are bound
                    f"WHERE alert_id = ? AND {_follow_up_condition(len(sms_codes))} "
                    "ORDER BY numero",
                    (alert_id, *sms_codes),
                )
            ]

    def last_status_at(self) -> float | None:
        """When the latest status webhook was received (any message), or None."""
        with self._file.read() as conn:
            (value,) = conn.execute("SELECT MAX(received_at) FROM statuts").fetchone()
        return None if value is None else float(value)

    def confirmed_claim_at(self) -> float | None:
        """The latest claim time among messages whose status webhook has arrived (any alert),
        or None: statuses of messages sent after a given time have come back."""
        with self._file.read() as conn:
            (value,) = conn.execute("SELECT MAX(claimed_at) FROM statuts").fetchone()
        return None if value is None else float(value)

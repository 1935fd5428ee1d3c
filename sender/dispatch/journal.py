"""The dispatch journal: one local SQLite row per (alert, recipient), written around every send.

A row goes `pending` just BEFORE a send and `sent`, `failed` or `gave_up` just AFTER it, so a
restart after a crash (even `kill -9`) resends only what is not recorded as `sent`; a recipient
already `sent` for an alert is never claimed again. `deferred` holds back recipients beyond the
WhatsApp daily limit until a later cycle.

States:
- `pending`  — claimed by a dispatcher, the send may be in flight (or was, before a crash);
- `sent`     — the channel accepted the message (final);
- `failed`   — definitive failure for this recipient (final: not retried);
- `gave_up`  — transient failure or interrupted batch: retried by the next dispatch;
- `deferred` — held back by the daily limit: sent by a later dispatch.

Concurrency: WAL mode, a busy timeout, `BEGIN IMMEDIATE` for every write, one connection per
process guarded by a lock (threads share it). A lease per alert (`acquire`/`renew`/`release`)
keeps two dispatchers off the same alert; `claim` checks the lease in the same transaction.

The file is never overwritten nor deleted: a file that is not a journal raises `JournalCorrupt`.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sender.config import Settings
from sender.errors import AlerteError
from sender.sqlitefile import Trouble, classify, open_wal, table_names

PENDING = "pending"
SENT = "sent"
FAILED = "failed"
GAVE_UP = "gave_up"
DEFERRED = "deferred"
STATES = (PENDING, SENT, FAILED, GAVE_UP, DEFERRED)
FINAL_STATES = frozenset({SENT, FAILED})

_FORMAT = "alerte-message-journal/1"
_MARKER = "_journal"
_CHUNK = 500  # recipients per IN (...) query, well below SQLite's variable limit

_SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {_MARKER} (cle TEXT PRIMARY KEY, valeur TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS envois (
        alert_id TEXT NOT NULL,
        recipient TEXT NOT NULL,
        channel TEXT,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        message_id TEXT,
        wa_id TEXT,
        error_code TEXT,
        error_text TEXT,
        owner TEXT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        sent_at REAL,
        PRIMARY KEY (alert_id, recipient)
    ) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS envois_fenetre ON envois (updated_at)",
    """CREATE TABLE IF NOT EXISTS verrous (
        alert_id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        acquired_at REAL NOT NULL,
        expires_at REAL NOT NULL
    )""",
)


class JournalError(AlerteError):
    """The dispatch journal cannot be used; nothing was sent on the strength of it."""


class JournalBusy(JournalError):
    """Another program holds the journal longer than the busy timeout: try again later."""

    retryable = True


class JournalCorrupt(JournalError):
    """The file is not a readable journal. It is left exactly as it was."""


class LeaseLost(JournalError):
    """This dispatcher no longer holds the alert's lease (expired and taken by another)."""


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One row. Times are Unix timestamps (seconds, UTC)."""

    alert_id: str
    recipient: str
    channel: str | None
    state: str
    attempts: int
    message_id: str | None
    wa_id: str | None
    error_code: str | None
    error_text: str | None
    owner: str | None
    created_at: float
    updated_at: float
    sent_at: float | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one send, to be recorded after it (see `Journal.record`)."""

    recipient: str
    state: str  # SENT, FAILED or GAVE_UP
    channel: str
    message_id: str | None = None
    wa_id: str | None = None
    error_code: str | None = None
    error_text: str | None = None


@dataclass(frozen=True)
class AlertSummary:
    """Counts by state and French failure reasons (with counts, most frequent first)."""

    alert_id: str
    counts: dict[str, int] = field(default_factory=dict)
    failures: list[tuple[str, int]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def count(self, state: str) -> int:
        return self.counts.get(state, 0)


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


class Journal:
    """Per-recipient dispatch journal in one SQLite file (see the module docstring)."""

    def __init__(
        self,
        path: str | Path,
        *,
        busy_timeout: float = 15.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self._clock = clock
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._pid: int | None = None

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

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None

    # -- connection and errors -------------------------------------------------------------

    def _translate(self, exc: sqlite3.Error) -> JournalError:
        trouble = classify(exc)
        if trouble is Trouble.BUSY:
            return JournalBusy(
                f"Le journal d'envoi {self.path} est resté verrouillé par un autre programme "
                f"(attente maximale : {self.busy_timeout:g} s) ; nouvel essai au prochain cycle."
            )
        if trouble is Trouble.DAMAGED:
            return JournalCorrupt(
                f"Le fichier {self.path} n'est pas un journal d'envoi lisible (fichier abîmé ou "
                "d'un autre type). Il n'a pas été modifié et aucun message n'a été envoyé : "
                "restaurez une sauvegarde ou indiquez un autre fichier dans ALERTE_JOURNAL."
            )
        if trouble is Trouble.ACCESS:
            return JournalError(
                f"Impossible d'ouvrir ou d'écrire le journal d'envoi {self.path} : vérifiez "
                "les droits sur le fichier et sur son dossier."
            )
        return JournalError(f"Erreur du journal d'envoi {self.path} : {exc}")

    def _connection(self) -> sqlite3.Connection:
        pid = os.getpid()
        if self._conn is not None and self._pid == pid:
            return self._conn
        self._conn = None  # inherited through fork(): never reuse the parent's connection
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise JournalError(
                f"Impossible de créer le dossier du journal d'envoi {self.path.parent} "
                f"({exc.strerror or type(exc).__name__})."
            ) from exc
        if self.path.is_dir():
            raise JournalError(
                f"Le chemin du journal d'envoi {self.path} est un dossier : indiquez un fichier "
                "dans ALERTE_JOURNAL."
            )
        try:
            conn = open_wal(self.path, self.busy_timeout, self._check_format)
        except sqlite3.Error as exc:
            raise self._translate(exc) from exc
        try:
            self._create_schema(conn)
        except sqlite3.Error as exc:
            conn.close()
            raise self._translate(exc) from exc
        self._conn, self._pid = conn, pid
        return conn

    @staticmethod
    def _create_schema(conn: sqlite3.Connection) -> None:
        if {"envois", "verrous", _MARKER} <= table_names(conn):
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA:
                conn.execute(statement)
            conn.execute(
                "INSERT OR IGNORE INTO _journal (cle, valeur) VALUES ('format', ?)", (_FORMAT,)
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _check_format(self, conn: sqlite3.Connection, tables: set[str]) -> None:
        if not tables:
            return
        if _MARKER not in tables:
            raise JournalCorrupt(
                f"Le fichier {self.path} est une base SQLite qui n'est pas un journal d'envoi "
                "Alerte Message. Il n'a pas été modifié : indiquez un autre fichier dans "
                "ALERTE_JOURNAL."
            )
        row = conn.execute("SELECT valeur FROM _journal WHERE cle = 'format'").fetchone()
        if row is not None and row[0] != _FORMAT:
            raise JournalCorrupt(
                f"Le journal d'envoi {self.path} est au format « {row[0]} », que cette version "
                f"ne sait pas lire (attendu : « {_FORMAT} »). Il n'a pas été modifié."
            )

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._connection()
            try:
                yield conn
            except sqlite3.Error as exc:
                raise self._translate(exc) from exc

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self._translate(exc) from exc
            try:
                yield conn
            except sqlite3.Error as exc:
                conn.execute("ROLLBACK")
                raise self._translate(exc) from exc
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                conn.execute("ROLLBACK")
                raise self._translate(exc) from exc

    def check(self) -> None:
        """Open (and create if needed) the journal now; raise a French JournalError if unusable."""
        with self._read():
            pass

    # -- lease per alert -------------------------------------------------------------------

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
        """Give the lease back; False if this owner did not hold it (any more)."""
        with self._write() as conn:
            cursor = conn.execute(
                "DELETE FROM verrous WHERE alert_id = ? AND owner = ?", (alert_id, owner)
            )
            return cursor.rowcount == 1

    def holder(self, alert_id: str) -> str | None:
        """The owner of a live lease on the alert, or None."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT owner FROM verrous WHERE alert_id = ? AND expires_at > ?",
                (alert_id, self._clock()),
            ).fetchone()
        return row[0] if row else None

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

    def _assert_lease(self, conn: sqlite3.Connection, alert_id: str, owner: str) -> None:
        row = conn.execute(
            "SELECT owner, expires_at FROM verrous WHERE alert_id = ?", (alert_id,)
        ).fetchone()
        if row is None or row[0] != owner or row[1] <= self._clock():
            raise LeaseLost(
                f"Le verrou d'envoi de l'alerte {alert_id} a expiré ou a été repris par un "
                "autre processus : envoi arrêté pour ne pas doubler les messages."
            )

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

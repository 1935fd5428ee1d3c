"""The journal's SQLite file: opening, schema, format check, transactions and French errors.

Concurrency: WAL mode, a busy timeout, `BEGIN IMMEDIATE` for every write, one connection per
process guarded by a lock (threads share it). The webhook receiver opens it with
`synchronous=FULL`: its `200` means the status is on disk, not only in the WAL.

The file is never overwritten nor deleted: a file that is not a journal raises `JournalCorrupt`.
A format-1 journal (before status webhooks) is upgraded in place, in one transaction: new
columns and tables are added, no row is lost, and `failed` rows whose code may come from a
setting (HTTP 404, code 100…) become retryable. Format 3 only renames the E.164 column of
`envois` from `recipient` to `numero`, the register's word; formats 1 and 2 get it in the same
transaction.

Tables: `envois` (one row per alert and recipient), `verrous` (one lease per alert), `statuts`
(every status webhook received, once per message and status: the duplicates Meta sends are
recognised), `entrants` (incoming messages the sender acts on: opt-outs…), `conversations`
(sign-ups made on WhatsApp, one per number, while they last), `suppressions` and
`desinscrits_vus` (keyed digests of erased numbers, see `privacy.py`), `compteurs` (messages and
SMS parts sent per day, kind and channel: `counts.py`), `confirmations_reportees` (the
confirmations the budget holds, and why), `demandes_sms` (requests whose person asked for an
SMS: `asked.py`), `modeles_meta` and `compte_meta` (Meta's view of the account), `_journal`
(format, the key of the callback references, when outbound confirmations were resumed).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sender.channels.whatsapp import RECIPIENT_CODES
from sender.journal import counts
from sender.journal.states import JournalBusy, JournalCorrupt, JournalError
from sender.storage import (
    Trouble,
    checkpoint_truncate,
    classify,
    code_name,
    open_wal,
    os_reason,
    table_names,
    transaction,
)

_FORMAT = "alerte-message-journal/3"
_READABLE = ("alerte-message-journal/1", "alerte-message-journal/2", _FORMAT)
_MARKER = "_journal"
_TABLES = frozenset({
    "envois", "verrous", "statuts", "entrants", "conversations", "compteurs",
    "confirmations_reportees", "demandes_sms", "suppressions", "desinscrits_vus",
    "modeles_meta", "compte_meta", _MARKER,
})

_SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {_MARKER} (cle TEXT PRIMARY KEY, valeur TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS envois (
        alert_id TEXT NOT NULL,
        numero TEXT NOT NULL,
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
        PRIMARY KEY (alert_id, numero)
    ) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS envois_fenetre ON envois (updated_at)",
    """CREATE TABLE IF NOT EXISTS verrous (
        alert_id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        acquired_at REAL NOT NULL,
        expires_at REAL NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS statuts (
        wamid TEXT NOT NULL,
        status TEXT NOT NULL,
        alert_id TEXT,
        ref TEXT,
        attempt INTEGER,
        code TEXT,
        sent_at INTEGER,
        received_at REAL NOT NULL,
        claimed_at REAL,
        PRIMARY KEY (wamid, status)
    ) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS statuts_reception ON statuts (received_at)",
    # Statuses that come without their callback are matched by the wamid (`delivery/store.py`).
    "CREATE INDEX IF NOT EXISTS envois_wamid ON envois (message_id) WHERE message_id IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS statuts_envoi ON statuts (claimed_at)",
    # What Meta says of the account (`delivery/account.py`): each template's last status, and
    # the phone number's messaging limit and quality rating.
    """CREATE TABLE IF NOT EXISTS modeles_meta (
        name TEXT NOT NULL,
        language TEXT NOT NULL,
        event TEXT NOT NULL,
        reason TEXT,
        received_at REAL NOT NULL,
        PRIMARY KEY (name, language)
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS compte_meta (
        cle TEXT PRIMARY KEY,
        valeur TEXT NOT NULL,
        received_at REAL NOT NULL
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS entrants (
        message_id TEXT PRIMARY KEY,
        sender TEXT NOT NULL,
        kind TEXT NOT NULL,
        body TEXT,
        sent_at INTEGER,
        received_at REAL NOT NULL,
        recorded_at REAL,
        answered_at REAL
    )""",
    counts.SCHEMA,
    # Requests whose person asked for a confirmation by SMS (`asked.py`).
    """CREATE TABLE IF NOT EXISTS demandes_sms (
        kind TEXT NOT NULL,
        code TEXT NOT NULL,
        asked_at REAL NOT NULL,
        PRIMARY KEY (kind, code)
    ) WITHOUT ROWID""",
    # The confirmations the budget holds this cycle, and why (`consent/outgoing.py`).
    """CREATE TABLE IF NOT EXISTS confirmations_reportees (
        message_id TEXT NOT NULL,
        numero TEXT NOT NULL,
        motif TEXT NOT NULL,
        PRIMARY KEY (message_id, numero)
    ) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS entrants_expediteur ON entrants (sender, received_at)",
    # One sign-up conversation on WhatsApp per number (`conversation/`): its step and answers.
    """CREATE TABLE IF NOT EXISTS conversations (
        sender TEXT PRIMARY KEY,
        step TEXT NOT NULL,
        answers TEXT NOT NULL,
        started_at REAL NOT NULL,
        updated_at REAL NOT NULL
    )""",
    # Keyed digests of numbers erased after an unsubscription (sender/journal/privacy.py).
    """CREATE TABLE IF NOT EXISTS suppressions (
        empreinte TEXT PRIMARY KEY,
        efface_le REAL NOT NULL
    ) WITHOUT ROWID""",
    # When the purge first saw a number unsubscribed, for rows that carry no date.
    """CREATE TABLE IF NOT EXISTS desinscrits_vus (
        empreinte TEXT PRIMARY KEY,
        vu_le REAL NOT NULL
    ) WITHOUT ROWID""",
)
# Columns format 2 adds to `envois` (format 1 files get them by ALTER TABLE).
_ENVOIS_V2 = (
    ("ref", "TEXT"),
    ("uncertain", "INTEGER NOT NULL DEFAULT 0"),
    ("final", "INTEGER"),
    ("delivery", "TEXT"),
    ("delivery_code", "TEXT"),
    ("delivery_at", "REAL"),
    ("fallback", "INTEGER NOT NULL DEFAULT 0"),
    ("claimed_at", "REAL"),
)
_INDEXES_V2 = (
    "CREATE INDEX IF NOT EXISTS envois_ref ON envois (ref)",
    "CREATE INDEX IF NOT EXISTS envois_suivi ON envois (alert_id) "
    "WHERE state IN ('gave_up', 'failed', 'uncertain')",
)
# Refusals about the member: the only `failed` rows of a format-1 journal that stay final.
FINAL_CODES = tuple(sorted(str(code) for code in RECIPIENT_CODES))


class JournalFile:
    """One process's connection to the journal file and its transactions (`Journal` holds one
    and runs its queries through `read` and `write`)."""

    def __init__(
        self, path: str | Path, *, busy_timeout: float = 15.0, synchronous: str = "NORMAL"
    ) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self.synchronous = "FULL" if synchronous.upper() == "FULL" else "NORMAL"
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._pid: int | None = None

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
                "les droits sur le fichier et sur son dossier, et que le disque n'est pas en "
                "lecture seule. Nouvel essai au prochain passage.",
                retryable=True,
            )
        if trouble is Trouble.FULL:
            return JournalError(
                f"Le disque du journal d'envoi {self.path} est plein : envoi suspendu, rien ne "
                "sera envoyé deux fois. Libérez de la place ; nouvel essai au prochain passage.",
                retryable=True,
            )
        if trouble is Trouble.IO:
            return JournalError(
                f"Erreur de lecture ou d'écriture du disque sur le journal d'envoi {self.path} "
                f"({code_name(exc)}) : envoi suspendu ; nouvel essai au prochain passage.",
                retryable=True,
            )
        return JournalError(
            f"Erreur inattendue du journal d'envoi {self.path} ({code_name(exc)}) : envoi "
            "suspendu."
        )

    def _connection(self) -> sqlite3.Connection:
        pid = os.getpid()
        if self._conn is not None and self._pid == pid:
            return self._conn
        self._conn = None  # inherited through fork(): never reuse the parent's connection
        if self.path.is_dir():
            raise JournalError(
                f"Le chemin du journal d'envoi {self.path} est un dossier : indiquez un fichier "
                "dans ALERTE_JOURNAL."
            )
        try:
            conn = open_wal(self.path, self.busy_timeout, self._check_format)
        except sqlite3.Error as exc:
            raise self._translate(exc) from exc
        except OSError as exc:
            raise JournalError(
                f"Impossible de créer le journal d'envoi {self.path} ({os_reason(exc)}) : "
                "vérifiez le disque, son espace libre et les droits sur le dossier.",
                retryable=True,
            ) from exc
        try:
            if self.synchronous == "FULL":
                conn.execute("PRAGMA synchronous = FULL")
            self._create_schema(conn)
        except BaseException:
            conn.close()
            raise
        self._conn, self._pid = conn, pid
        return conn

    def _current(self, conn: sqlite3.Connection) -> bool:
        if not _TABLES.issubset(table_names(conn)):
            return False
        row = conn.execute("SELECT valeur FROM _journal WHERE cle = 'format'").fetchone()
        return row is not None and row[0] == _FORMAT

    def _create_schema(self, conn: sqlite3.Connection) -> None:
        try:
            if self._current(conn):
                return
        except sqlite3.Error as exc:
            raise self._translate(exc) from exc
        with transaction(conn, self._translate, write=True):
            for statement in _SCHEMA:
                conn.execute(statement)
            columns = {r[1] for r in conn.execute("PRAGMA table_info(envois)")}
            if "recipient" in columns:  # formats 1 and 2 named the E.164 column `recipient`
                conn.execute("ALTER TABLE envois RENAME COLUMN recipient TO numero")
            upgraded = [(name, kind) for name, kind in _ENVOIS_V2 if name not in columns]
            for name, kind in upgraded:
                conn.execute(f"ALTER TABLE envois ADD COLUMN {name} {kind}")
            for statement in _INDEXES_V2:
                conn.execute(statement)
            if upgraded:
                marks = ", ".join("?" for _ in FINAL_CODES)
                conn.execute(
                    f"UPDATE envois SET final = (error_code IN ({marks})) "  # noqa: S608  # nosec B608 - constant placeholders, values are bound
                    "WHERE state = 'failed'",
                    FINAL_CODES,
                )
            conn.execute(
                "INSERT INTO _journal (cle, valeur) VALUES ('format', ?) "
                "ON CONFLICT (cle) DO UPDATE SET valeur = excluded.valeur",
                (_FORMAT,),
            )

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
        if row is not None and row[0] not in _READABLE:
            raise JournalCorrupt(
                f"Le journal d'envoi {self.path} est au format « {row[0]} », que cette version "
                f"ne sait pas lire (attendu : « {_FORMAT} »). Il n'a pas été modifié."
            )

    def checkpoint(self) -> bool:
        """Empty the `-wal` file into the journal (after an erasure)."""
        with self._lock:
            return checkpoint_truncate(self._connection())

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """The connection, under this process's lock; SQLite errors come out in French."""
        with self._lock:
            conn = self._connection()
            try:
                yield conn
            except sqlite3.Error as exc:
                raise self._translate(exc) from exc

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (`BEGIN IMMEDIATE` … `COMMIT`, rolled back on any error)."""
        with self._lock:
            conn = self._connection()
            with transaction(conn, self._translate, write=True):
                yield conn

    def open_or_create(self) -> None:
        """Open (and create if needed) the journal now; raise a French JournalError if unusable."""
        with self.read():
            pass

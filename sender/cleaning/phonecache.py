"""Persistent memo of cleaned numbers, so rows unchanged since the last run are not re-parsed.

Kept in the sender's local state file (next to the journal), keyed by the text as typed and the
`phonenumbers` metadata version: a library upgrade re-parses everything once.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import phonenumbers

from sender.domain.phones import PhoneResult, parse_phone
from sender.storage import checkpoint_truncate, open_wal, transaction

_VERSION = phonenumbers.__version__
_BUSY_TIMEOUT = 15.0  # seconds


def _any_file(_conn: sqlite3.Connection, _tables: set[str]) -> None:
    """A cache accepts whatever file is there: it only reads and writes its own table."""


def _unchanged(exc: sqlite3.Error) -> Exception:
    """SQLite errors stay as they are: `save` and `_load` give up on any of them."""
    return exc


class PhoneCache:
    """Dict-backed cache loaded in one query and saved in one transaction."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._known: dict[str, PhoneResult] = {}
        self._new: dict[str, PhoneResult] = {}
        if path is not None and path.exists():
            self._load()

    def _open(self) -> sqlite3.Connection:
        assert self.path is not None
        conn = open_wal(self.path, _BUSY_TIMEOUT, _any_file)
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS numeros_vus (saisie TEXT PRIMARY KEY, version TEXT, "
                "numero TEXT, ok INTEGER, remarque TEXT)"
            )
        except BaseException:
            conn.close()
            raise
        return conn

    def _load(self) -> None:
        try:
            conn = self._open()
            try:
                for raw, numero, ok, remarque in conn.execute(
                    "SELECT saisie, numero, ok, remarque FROM numeros_vus WHERE version = ?",
                    (_VERSION,),
                ):
                    self._known[raw] = PhoneResult(numero or None, bool(ok), remarque or "")
            finally:
                conn.close()
        except (sqlite3.Error, OSError):
            self._known = {}  # a cache is disposable: start afresh rather than fail

    def __call__(self, raw: str) -> PhoneResult:
        found = self._known.get(raw)
        if found is not None:
            return found
        result = parse_phone(raw)
        self._known[raw] = result
        self._new[raw] = result
        return result

    def save(self) -> None:
        if self.path is None or not self._new:
            return
        try:
            conn = self._open()
            try:
                with transaction(conn, _unchanged, write=True):
                    conn.executemany(
                        "INSERT OR REPLACE INTO numeros_vus VALUES (?, ?, ?, ?, ?)",
                        [
                            (raw, _VERSION, r.numero or "", int(r.ok), r.remarque)
                            for raw, r in self._new.items()
                        ],
                    )
            finally:
                conn.close()
        except (sqlite3.Error, OSError):
            return  # full or read-only disk: kept in memory, saved by a later call
        self._new.clear()

    # -- retention and erasure (sender/privacy/) ---------------------------------------------

    def entries(self) -> list[tuple[str, str]]:
        """Every (text as typed, E.164 number) of the memo file."""
        if self.path is None or not self.path.exists():
            return []
        conn = self._open()
        try:
            return [(raw, numero or "") for raw, numero in
                    conn.execute("SELECT saisie, numero FROM numeros_vus")]
        finally:
            conn.close()

    def forget(self, texts: set[str]) -> int:
        """Delete the entries typed as one of `texts` (in the file and in memory), then empty
        the `-wal` file so they do not survive there; the number deleted."""
        for raw in texts:
            self._known.pop(raw, None)
            self._new.pop(raw, None)
        if self.path is None or not self.path.exists() or not texts:
            return 0
        conn = self._open()
        try:
            with transaction(conn, _unchanged, write=True):
                deleted = sum(
                    conn.execute("DELETE FROM numeros_vus WHERE saisie = ?", (raw,)).rowcount
                    for raw in texts
                )
            checkpoint_truncate(conn)
        finally:
            conn.close()
        return deleted

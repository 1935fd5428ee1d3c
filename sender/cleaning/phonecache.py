"""Persistent memo of cleaned numbers, so rows unchanged since the last run are not re-parsed.

Kept in the sender's local state file (next to the journal), keyed by the text as typed and the
`phonenumbers` metadata version: a library upgrade re-parses everything once.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import phonenumbers

from sender.cleaning.phones import PhoneResult, clean_phone
from sender.storage import private_file

_VERSION = phonenumbers.__version__


class PhoneCache:
    """Dict-backed cache loaded in one query and saved in one transaction."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._known: dict[str, PhoneResult] = {}
        self._new: dict[str, PhoneResult] = {}
        if path is not None and path.exists():
            self._load()

    def _connect(self) -> sqlite3.Connection:
        assert self.path is not None
        private_file(self.path)
        conn = sqlite3.connect(self.path, timeout=15)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS numeros_vus (saisie TEXT PRIMARY KEY, version TEXT, "
            "numero TEXT, ok INTEGER, remarque TEXT)"
        )
        return conn

    def _load(self) -> None:
        try:
            with self._connect() as conn:
                for raw, numero, ok, remarque in conn.execute(
                    "SELECT saisie, numero, ok, remarque FROM numeros_vus WHERE version = ?",
                    (_VERSION,),
                ):
                    self._known[raw] = PhoneResult(numero or None, bool(ok), remarque or "")
        except (sqlite3.Error, OSError):
            self._known = {}  # a cache is disposable: start afresh rather than fail

    def __call__(self, raw: str) -> PhoneResult:
        found = self._known.get(raw)
        if found is not None:
            return found
        result = clean_phone(raw)
        self._known[raw] = result
        self._new[raw] = result
        return result

    def save(self) -> None:
        if self.path is None or not self._new:
            return
        try:
            with self._connect() as conn:
                conn.executemany(
                    "INSERT OR REPLACE INTO numeros_vus VALUES (?, ?, ?, ?, ?)",
                    [
                        (raw, _VERSION, r.numero or "", int(r.ok), r.remarque)
                        for raw, r in self._new.items()
                    ],
                )
        except (sqlite3.Error, OSError):
            return  # full or read-only disk: kept in memory, saved by a later call
        self._new.clear()

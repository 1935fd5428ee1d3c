"""What the local SQLite files (register, journal) share: opening them safely in WAL mode and
sorting SQLite's errors into the kinds users can act on."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from itertools import count
from pathlib import Path

from sender.errors import RetryPolicy

_WAL_SWITCH = RetryPolicy(base_delay=0.01, max_delay=0.25)  # bounded by busy_timeout, not attempts


class Trouble(Enum):
    BUSY = "busy"  # another program holds the lock: retry later
    DAMAGED = "damaged"  # not a database, or a damaged one: never write to it
    ACCESS = "access"  # permissions, read-only file system, missing folder
    OTHER = "other"


def classify(exc: sqlite3.Error) -> Trouble:
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return Trouble.BUSY
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return Trouble.DAMAGED
    if "readonly" in text or "unable to open" in text or "permission" in text:
        return Trouble.ACCESS
    return Trouble.OTHER


def table_names(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def open_wal(
    path: Path,
    busy_timeout: float,
    check: Callable[[sqlite3.Connection, set[str]], None],
) -> sqlite3.Connection:
    """Connect in autocommit mode, let `check` refuse a foreign file (before any write), then
    switch to WAL.

    Switching a new file to WAL fails at once with « database is locked » when another process
    does the same (SQLite does not call the busy handler there), so it is retried until
    `busy_timeout`. Raises sqlite3.Error or whatever `check` raises; the connection is closed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
    )
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        deadline = time.monotonic() + busy_timeout
        for attempt in count(1):
            try:
                check(conn, table_names(conn))
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")  # WAL: survives a process kill
                return conn
            except sqlite3.OperationalError as exc:
                if classify(exc) is not Trouble.BUSY or time.monotonic() > deadline:
                    raise
            time.sleep(_WAL_SWITCH.delay(attempt))
    except BaseException:
        conn.close()
        raise


@contextmanager
def transaction(
    conn: sqlite3.Connection,
    translate: Callable[[sqlite3.Error], Exception],
    *,
    write: bool,
) -> Iterator[sqlite3.Connection]:
    """BEGIN (IMMEDIATE for writers, so the lock is taken before reading) … COMMIT, rolled
    back on any exception; SQLite errors come out through `translate`."""
    try:
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
    except sqlite3.Error as exc:
        raise translate(exc) from exc
    try:
        yield conn
    except sqlite3.Error as exc:
        conn.execute("ROLLBACK")
        raise translate(exc) from exc
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        conn.execute("ROLLBACK")
        raise translate(exc) from exc

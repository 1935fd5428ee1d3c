"""What the local data files (register, journal, phone memo, outbox) share: private files and
folders (0600 / 0700 whatever the umask: they hold phone numbers and messages), opening SQLite
safely in WAL mode, and sorting SQLite's errors into the kinds users can act on."""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from itertools import count
from pathlib import Path

from sender.errors import RetryPolicy

_WAL_SWITCH = RetryPolicy(base_delay=0.01, max_delay=0.25)  # bounded by busy_timeout, not attempts


PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


class Trouble(Enum):
    BUSY = "busy"  # another program holds the lock: retry later
    DAMAGED = "damaged"  # not a database, or a damaged one: never write to it
    ACCESS = "access"  # permissions, read-only file system, missing folder
    FULL = "full"  # no space left on the disk: retry once some is freed
    IO = "io"  # the disk failed to read or write: retry later
    OTHER = "other"


_CODES = (
    (Trouble.BUSY, ("SQLITE_BUSY", "SQLITE_LOCKED")),
    (Trouble.FULL, ("SQLITE_FULL",)),
    (Trouble.DAMAGED, ("SQLITE_NOTADB", "SQLITE_CORRUPT")),
    (Trouble.ACCESS, ("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")),
    (Trouble.IO, ("SQLITE_IOERR",)),
)
_WORDS = (
    (Trouble.BUSY, ("locked", "busy")),
    (Trouble.FULL, ("disk is full", "no space")),
    (Trouble.DAMAGED, ("not a database", "malformed", "corrupt")),
    (Trouble.ACCESS, ("readonly", "unable to open", "permission")),
    (Trouble.IO, ("disk i/o error",)),
)


def classify(exc: sqlite3.Error) -> Trouble:
    name = getattr(exc, "sqlite_errorname", "") or ""
    for trouble, prefixes in _CODES:
        if name.startswith(prefixes):
            return trouble
    text = str(exc).lower()
    for trouble, words in _WORDS:
        if any(word in text for word in words):
            return trouble
    return Trouble.OTHER


def code_name(exc: sqlite3.Error) -> str:
    """SQLite's name for the error (`SQLITE_IOERR_WRITE`…), for French messages: never the
    English text, which may quote a cell."""
    return getattr(exc, "sqlite_errorname", "") or type(exc).__name__


def os_reason(exc: OSError) -> str:
    """A short French reason for a failed file operation."""
    reasons = {
        errno.ENOSPC: "disque plein",
        errno.EDQUOT: "quota disque dépassé",
        errno.EROFS: "disque en lecture seule",
        errno.EACCES: "droits insuffisants",
        errno.EPERM: "opération non permise",
        errno.ENOENT: "dossier introuvable",
        errno.EIO: "erreur d'entrée-sortie du disque",
        errno.ENOTDIR: "un élément du chemin n'est pas un dossier",
        errno.EISDIR: "c'est un dossier",
    }
    name = errno.errorcode.get(exc.errno or 0, type(exc).__name__)
    return reasons.get(exc.errno or 0, f"erreur système {name}")


def private_dir(path: Path) -> None:
    """Create the folder `path` and its missing parents, readable by their owner only (0700,
    whatever the umask). Folders that already exist are left as they are. Raises OSError."""
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            continue
        os.chmod(folder, PRIVATE_DIR)


def private_file(path: Path) -> bool:
    """Create `path` empty, readable and writable by its owner only (0600, whatever the umask),
    unless it exists; True when it was created. SQLite gives its `-wal` and `-shm` files the mode
    of the database file. Raises OSError."""
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return False
    try:
        os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)
    return True


def open_private_append(path: Path) -> int:
    """A file descriptor appending to `path`, created 0600 if missing. Raises OSError."""
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE)
    try:
        if os.fstat(fd).st_size == 0:
            os.fchmod(fd, PRIVATE_FILE)
    except OSError:
        os.close(fd)
        raise
    return fd


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
    `busy_timeout`. A new file and its folders are private (0600 / 0700). Raises sqlite3.Error,
    OSError (folder or file not creatable) or whatever `check` raises; the connection is closed.
    """
    private_file(path)
    conn = sqlite3.connect(
        path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
    )
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        # Deleted content is overwritten with zeros: an erased phone number does not survive
        # in the free pages of the file (see `checkpoint_truncate` for the `-wal` file).
        conn.execute("PRAGMA secure_delete = ON")
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
        rollback(conn)
        raise translate(exc) from exc
    except BaseException:
        rollback(conn)
        raise
    try:
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        rollback(conn)
        raise translate(exc) from exc


def checkpoint_truncate(conn: sqlite3.Connection) -> bool:
    """Copy the `-wal` file into the database and empty it, so that page images holding
    erased data do not stay in it; False when a reader kept part of it (tried again later)."""
    try:
        busy, _log, _done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    except sqlite3.Error:
        return False
    return not busy


def rollback(conn: sqlite3.Connection) -> None:
    """Roll back if a transaction is still open. After a failed COMMIT (disk full, I/O error)
    SQLite has often rolled back already, and a ROLLBACK would raise « cannot rollback - no
    transaction is active » over the real error."""
    if conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")

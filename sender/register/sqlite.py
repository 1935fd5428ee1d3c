"""Local register in one SQLite file: the embedded default (no account, no network).

One table per tab, one TEXT column per header, plus `_row` as the stable row key. WAL mode and
`BEGIN IMMEDIATE` let the intake server and the sender write at the same time without losing rows.
A file written by an older version gets the columns the schema added since (`remis`, `lus`…)
when it is opened, empty, without touching any row.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from sender import schema
from sender.errors import RegisterCorrupt, RegisterError, RegisterUnavailable
from sender.register.base import InitReport, Register
from sender.register.defaults import default_template_rows, missing_sequel_rows
from sender.register.identity import (
    IDENTITY_COLUMN,
    Identities,
    locate,
    locate_by_id,
    needs_content,
)
from sender.register.ids import fill_ids
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
from sender.tables import CellChange, Row, Table
from sender.text import neutralise

log = logging.getLogger(__name__)

_MARKER_TABLE = "_registre"
_FORMAT = "alerte-message/1"
_BUSY_TIMEOUT = 15.0


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class _Unreadable:
    """What `_lenient_text` returns for bytes that are not UTF-8."""


_UNREADABLE = _Unreadable()


def _lenient_text(raw: bytes) -> str | _Unreadable:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return _UNREADABLE


def _row_of(tab: str, headers: list[str], record: Sequence[object]) -> Row:
    values: dict[str, str] = {}
    bad: list[str] = []
    for header, value in zip(headers, record[1:], strict=True):
        if value is None:
            values[header] = ""
        elif isinstance(value, str):
            values[header] = value
        elif isinstance(value, bytes | _Unreadable):  # a blob, or bytes that are not text
            values[header] = ""
            bad.append(header)
        else:
            values[header] = str(value)
    if bad:
        for header in bad:  # where, never what: the cell may hold personal data
            log.warning(
                "Registre local : cellule illisible (onglet %s, ligne %s, colonne %s) : la "
                "ligne est signalée, le reste du registre est traité.", tab, record[0], header,
            )
        return Row(int(record[0]), values, tuple(bad))  # type: ignore[call-overload]
    return Row(int(record[0]), values)  # type: ignore[call-overload]


class SQLiteRegister(Register):
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._identities = Identities()  # of the rows of the last read (see `write`)

    def describe(self) -> str:
        return f"registre local SQLite : {self.path.resolve()}"

    # -- connection handling -------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self.path.is_dir():
                raise RegisterError(
                    f"{self.path} est un dossier : indiquez un fichier dans ALERTE_REGISTRE."
                )
            try:
                conn = open_wal(self.path, _BUSY_TIMEOUT, self._check_marker)
            except sqlite3.Error as exc:
                raise self._translate(exc) from exc
            except OSError as exc:
                raise RegisterUnavailable(
                    f"Impossible de créer le registre {self.path} ({os_reason(exc)}) : vérifiez "
                    "le disque, son espace libre et les droits sur le dossier."
                ) from exc
            self._local.conn = conn
            self._add_new_columns(conn)
        return conn

    def _add_new_columns(self, conn: sqlite3.Connection) -> None:
        """Columns of the schema missing from existing tabs are added (empty); a read-only
        file is left as it is."""
        try:
            tables = table_names(conn)
            missing = any(
                column not in self._headers(conn, tab)
                for tab, columns in schema.COLUMNS.items()
                if tab in tables
                for column in columns
            )
            if missing:
                with transaction(conn, self._translate, write=True):
                    self._create_all(conn, table_names(conn), InitReport(), tabs=False)
        except (sqlite3.Error, RegisterError):
            return

    def _translate(self, exc: sqlite3.Error) -> RegisterError:
        trouble = classify(exc)
        if trouble is Trouble.BUSY:
            return RegisterUnavailable(
                f"Le registre {self.path} est verrouillé par un autre programme ; "
                "nouvel essai dans un instant."
            )
        if trouble is Trouble.DAMAGED:
            return RegisterCorrupt(
                f"Le fichier {self.path} n'est pas un registre lisible (fichier abîmé ou d'un "
                "autre type). Rien n'a été modifié : restaurez une sauvegarde ou indiquez un "
                "autre fichier dans ALERTE_REGISTRE."
            )
        if trouble is Trouble.ACCESS:
            return RegisterUnavailable(
                f"Impossible d'écrire dans {self.path} : vérifiez les droits sur le fichier "
                "et son dossier, et que le disque n'est pas en lecture seule."
            )
        if trouble is Trouble.FULL:
            return RegisterUnavailable(
                f"Le disque du registre {self.path} est plein : rien n'a été modifié. Libérez "
                "de la place ; nouvel essai au prochain passage."
            )
        if trouble is Trouble.IO:
            return RegisterUnavailable(
                f"Erreur de lecture ou d'écriture du disque sur le registre {self.path} "
                f"({code_name(exc)}) : rien n'a été modifié ; nouvel essai au prochain passage."
            )
        return RegisterError(
            f"Erreur inattendue du registre local {self.path} ({code_name(exc)}) : rien n'a "
            "été modifié."
        )

    @contextmanager
    def _transaction(self, *, write: bool) -> Iterator[sqlite3.Connection]:
        conn = self._connection()
        with transaction(conn, self._translate, write=write):
            yield conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- schema helpers ------------------------------------------------------------------

    @staticmethod
    def _headers(conn: sqlite3.Connection, tab: str) -> list[str]:
        return [r[1] for r in conn.execute(f"PRAGMA table_info({_quote(tab)})") if r[1] != "_row"]

    def _check_marker(self, _conn: sqlite3.Connection, tables: set[str]) -> None:
        if not tables:
            return
        if _MARKER_TABLE not in tables:
            raise RegisterCorrupt(
                f"Le fichier {self.path} est une base SQLite qui n'est pas un registre "
                "Alerte Message. Rien n'a été modifié : indiquez un autre fichier dans "
                "ALERTE_REGISTRE."
            )

    # -- Register API --------------------------------------------------------------------

    def read(self, tabs: Sequence[str]) -> dict[str, Table]:
        result: dict[str, Table] = {}
        with self._transaction(write=False) as conn:
            tables = table_names(conn)
            self._check_marker(conn, tables)
            for tab in tabs:
                if tab not in tables:
                    result[tab] = Table.absent(tab)
                    continue
                headers = self._headers(conn, tab)
                table = Table(tab, headers, self._rows(conn, tab, headers))
                self._identities.remember(tab, table.rows)
                result[tab] = table
        return result

    def _rows(self, conn: sqlite3.Connection, tab: str, headers: list[str]) -> list[Row]:
        """The tab's rows. A cell another program filled with bytes that are not UTF-8 text
        makes SQLite's decoding fail for the whole query: the tab is then read again cell by
        cell, and only the rows holding such cells are marked (`Row.unreadable`)."""
        columns = ", ".join(["_row", *(_quote(h) for h in headers)])
        sql = f"SELECT {columns} FROM {_quote(tab)} ORDER BY _row"  # noqa: S608  # nosec B608 - identifiers are our own constants, values are bound
        try:
            return [_row_of(tab, headers, record) for record in conn.execute(sql)]
        except sqlite3.OperationalError as exc:
            if "decode" not in str(exc).lower():
                raise
        conn.text_factory = _lenient_text
        try:
            return [_row_of(tab, headers, record) for record in conn.execute(sql)]
        finally:
            conn.text_factory = str

    def write(self, changes: Iterable[CellChange]) -> int:
        """One transaction. Rows are found by identity (`register.identity`), in the same
        transaction: a program that rewrote the table since the read (rows deleted, sorted and
        renumbered) never gets a value on another row; a row deleted since is skipped."""
        grouped: dict[tuple[str, str], list[tuple[str, int]]] = {}
        for change in changes:
            grouped.setdefault((change.tab, change.column), []).append(
                (neutralise(change.value), change.key)
            )
        if not grouped:
            return 0
        count = 0
        with self._transaction(write=True) as conn:
            tables = table_names(conn)
            known: dict[str, list[str]] = {}
            moved: dict[str, dict[int, int | None]] = {}
            for (tab, column), values in grouped.items():
                if tab not in tables:
                    raise RegisterError(f"L'onglet « {tab} » n'existe pas dans le registre.")
                headers = known.setdefault(tab, self._headers(conn, tab))
                if column not in headers:
                    raise RegisterError(
                        f"La colonne « {column} » manque dans l'onglet « {tab} » : "
                        "lancez « alerte-message initialiser »."
                    )
                if tab not in moved:
                    keys = {key for (t, _), items in grouped.items() if t == tab
                            for _, key in items}
                    moved[tab] = self._where_now(conn, tab, headers, keys)
                targets = moved[tab]
                rows = [(value, targets.get(key, key)) for value, key in values]
                kept = [(value, key) for value, key in rows if key is not None]
                if len(kept) < len(rows):
                    log.warning(
                        "Registre local, onglet %s : %d ligne(s) supprimée(s) depuis la "
                        "lecture ; leurs cellules ne sont pas écrites.", tab, len(rows) - len(kept)
                    )
                conn.executemany(
                    f"UPDATE {_quote(tab)} SET {_quote(column)} = ? WHERE _row = ?",  # noqa: S608  # nosec B608 - identifiers are our own constants, values are bound
                    kept,
                )
                count += len(kept)
                if column == IDENTITY_COLUMN.get(tab):
                    for value, key in values:
                        if targets.get(key, key) is not None:
                            self._identities.set_ident(tab, key, value)
        return count

    def _where_now(
        self, conn: sqlite3.Connection, tab: str, headers: list[str], keys: set[int]
    ) -> dict[int, int | None]:
        """Current row id of each key this register read (keys it did not read: themselves)."""
        wanted = {k: i for k in keys if (i := self._identities.get(tab, k)) is not None}
        if not wanted:
            return {}
        column = IDENTITY_COLUMN.get(tab)
        if column and column in headers and not needs_content(tab, list(wanted.values())):
            sql = f"SELECT _row, {_quote(column)} FROM {_quote(tab)}"  # noqa: S608  # nosec B608 - identifiers are our own constants, values are bound
            pairs = ((key, value if isinstance(value, str) else "")
                     for key, value in conn.execute(sql))
            return locate_by_id(tab, wanted, pairs)
        rows = self._rows(conn, tab, headers)
        return locate(tab, wanted, [(row.key, row.values) for row in rows])

    def delete_rows(self, tab: str, keys: Sequence[int]) -> int:
        """One transaction: the rows are found by identity, then deleted (the file overwrites
        deleted content with zeros, see `storage.open_wal`)."""
        if not keys:
            return 0
        with self._transaction(write=True) as conn:
            if tab not in table_names(conn):
                return 0
            headers = self._headers(conn, tab)
            moved = self._where_now(conn, tab, headers, set(keys))
            targets = sorted({t for key in keys if (t := moved.get(key, key)) is not None})
            deleted = 0
            for target in targets:
                cursor = conn.execute(
                    f"DELETE FROM {_quote(tab)} WHERE _row = ?", (target,)  # noqa: S608  # nosec B608 - identifiers are our own constants, values are bound
                )
                deleted += max(cursor.rowcount, 0)
        self._identities.forget(tab)
        return deleted

    def checkpoint(self) -> bool:
        """Empty the `-wal` file into the database (after an erasure)."""
        return checkpoint_truncate(self._connection())

    def append(self, tab: str, rows: Sequence[Mapping[str, str]]) -> list[int]:
        if not rows:
            return []
        with self._transaction(write=True) as conn:
            tables = table_names(conn)
            if tab not in tables:
                self._create_all(conn, tables, InitReport())
            headers = self._headers(conn, tab)
            records = [{h: neutralise(str(row.get(h, "") or "")) for h in headers} for row in rows]
            if "id" in headers:
                (current,) = conn.execute(
                    f"SELECT COALESCE(MAX(CAST(id AS INTEGER)), 0) FROM {_quote(tab)}"  # noqa: S608  # nosec B608 - identifiers are our own constants, values are bound
                ).fetchone()
                fill_ids(records, int(current) + 1)
            placeholders = ", ".join("?" for _ in headers)
            sql = (
                f"INSERT INTO {_quote(tab)} ({', '.join(_quote(h) for h in headers)}) "  # noqa: S608  # nosec B608 - identifiers are our own constants, values are bound
                f"VALUES ({placeholders})"
            )
            keys = []
            for record in records:
                cursor = conn.execute(sql, [record[h] for h in headers])
                keys.append(int(cursor.lastrowid or 0))
        for key, record in zip(keys, records, strict=True):
            self._identities.add(tab, key, record)
        return keys

    def _create_all(
        self,
        conn: sqlite3.Connection,
        tables: set[str],
        report: InitReport,
        *,
        tabs: bool = True,
    ) -> None:
        """Create the missing tabs (unless `tabs` is False) and add missing columns."""
        self._check_marker(conn, tables)
        if _MARKER_TABLE not in tables:
            if not tabs:
                return
            conn.execute(f"CREATE TABLE {_MARKER_TABLE} (cle TEXT PRIMARY KEY, valeur TEXT)")
            conn.execute(f"INSERT INTO {_MARKER_TABLE} VALUES ('format', ?)", (_FORMAT,))  # noqa: S608  # nosec B608 - identifiers are our own constants, values are bound
        for tab, columns in schema.COLUMNS.items():
            if tab not in tables:
                if not tabs:
                    continue
                cols = ", ".join(f"{_quote(c)} TEXT NOT NULL DEFAULT ''" for c in columns)
                conn.execute(
                    f"CREATE TABLE {_quote(tab)} (_row INTEGER PRIMARY KEY AUTOINCREMENT, {cols})"
                )
                report.created_tabs.append(tab)
                continue
            existing = self._headers(conn, tab)
            for column in columns:
                if column not in existing:
                    conn.execute(
                        f"ALTER TABLE {_quote(tab)} ADD COLUMN {_quote(column)} "
                        "TEXT NOT NULL DEFAULT ''"
                    )
                    report.added_columns.append(f"{tab}.{column}")

    def initialise(self) -> InitReport:
        report = InitReport()
        with self._transaction(write=True) as conn:
            self._create_all(conn, table_names(conn), report)
            (templates,) = conn.execute(f"SELECT COUNT(*) FROM {_quote(schema.MODELES)}").fetchone()  # noqa: S608  # nosec B608 - identifiers are our own constants, values are bound
        if templates == 0:
            self.append(schema.MODELES, default_template_rows())
            report.added_rows.append(f"{schema.MODELES} : modèles de message par défaut")
            return report
        types = [r.get("type") for r in self.read([schema.MODELES])[schema.MODELES].rows]
        sequels = missing_sequel_rows(types)
        if sequels:
            self.append(schema.MODELES, sequels)
            report.added_rows.append(f"{schema.MODELES} : modèles des suites d'alerte")
        return report

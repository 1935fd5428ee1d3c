"""Local register in one SQLite file: the embedded default (no account, no network).

One table per tab, one TEXT column per header, plus `_row` as the stable row key. WAL mode and
`BEGIN IMMEDIATE` let the intake server and the sender write at the same time without losing rows.
A file written by an older version gets the columns the schema added since (`remis`, `lus`…)
when it is opened, empty, without touching any row.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from sender import schema
from sender.errors import RegisterCorrupt, RegisterError, RegisterUnavailable
from sender.register.base import CellChange, InitReport, Register, Row, Table
from sender.register.defaults import default_template_rows
from sender.register.ids import fill_ids
from sender.storage import Trouble, classify, open_wal, table_names, transaction
from sender.text import neutralise

_MARKER_TABLE = "_registre"
_FORMAT = "alerte-message/1"
_BUSY_TIMEOUT = 15.0


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class SQLiteRegister(Register):
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()

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
                raise RegisterError(
                    f"Impossible de créer le dossier du registre {self.path.parent} "
                    f"({exc.strerror or type(exc).__name__})."
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
            return RegisterError(
                f"Impossible d'écrire dans {self.path} : vérifiez les droits sur le fichier "
                "et son dossier."
            )
        return RegisterError(f"Erreur du registre local {self.path} : {exc}")

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
                columns = ", ".join(["_row", *(_quote(h) for h in headers)])
                rows = [
                    Row(
                        record[0],
                        {
                            h: "" if v is None else str(v)
                            for h, v in zip(headers, record[1:], strict=True)
                        },
                    )
                    for record in conn.execute(
                        f"SELECT {columns} FROM {_quote(tab)} ORDER BY _row"  # noqa: S608  # nosec B608 - identifiers are our own constants, values are bound
                    )
                ]
                result[tab] = Table(tab, headers, rows)
        return result

    def write(self, changes: Iterable[CellChange]) -> int:
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
            for (tab, column), values in grouped.items():
                if tab not in tables:
                    raise RegisterError(f"L'onglet « {tab} » n'existe pas dans le registre.")
                headers = known.setdefault(tab, self._headers(conn, tab))
                if column not in headers:
                    raise RegisterError(
                        f"La colonne « {column} » manque dans l'onglet « {tab} » : "
                        "lancez « alerte-message initialiser »."
                    )
                conn.executemany(
                    f"UPDATE {_quote(tab)} SET {_quote(column)} = ? WHERE _row = ?",  # noqa: S608  # nosec B608 - identifiers are our own constants, values are bound
                    values,
                )
                count += len(values)
        return count

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

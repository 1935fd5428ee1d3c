"""The register interface shared by the SQLite and Google Sheets backends.

A register is a set of tabs; each tab has a header row and data rows of text. Rows are addressed
by an opaque integer key (sheet row number, SQLite rowid) that stays valid between a read and
the write that follows it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from sender import schema
from sender.register.protection import Protection


@dataclass(frozen=True, slots=True)
class Row:
    """One data row. `unreadable` names the columns whose cell could not be read (bytes that
    are not text, written by another program): their value reads as empty, and the row — only
    this row — gets a remark."""

    key: int
    values: Mapping[str, str]
    unreadable: tuple[str, ...] = ()

    def get(self, column: str) -> str:
        return self.values.get(column, "") or ""

    def unreadable_remark(self) -> str:
        """French remark naming the unreadable cells of this row (empty when there is none)."""
        if not self.unreadable:
            return ""
        names = ", ".join(f"« {column} »" for column in self.unreadable)
        where = "colonnes" if len(self.unreadable) > 1 else "colonne"
        return (
            f"cellule illisible ({where} {names} : caractères invalides, sans doute écrits par "
            "un autre logiciel) : la ressaisir"
        )


@dataclass(slots=True)
class Table:
    name: str
    headers: list[str]
    rows: list[Row] = field(default_factory=list)

    @classmethod
    def absent(cls, name: str) -> Table:
        """A tab the register does not have (yet): the schema's headers and no rows."""
        return cls(name, list(schema.COLUMNS.get(name, ())))

    def as_dicts(self) -> list[dict[str, str]]:
        return [{h: row.get(h) for h in self.headers} for row in self.rows]


class CellChange(NamedTuple):
    """One cell to write. A named tuple: cleaning 100,000 rows creates hundreds of thousands."""

    tab: str
    key: int
    column: str
    value: str


@dataclass(slots=True)
class InitReport:
    """What `initialiser` did; empty lists mean the register was already complete."""

    created_tabs: list[str] = field(default_factory=list)
    added_columns: list[str] = field(default_factory=list)
    added_rows: list[str] = field(default_factory=list)
    formatting: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # things a person should fix

    @property
    def changed(self) -> bool:
        return bool(self.created_tabs or self.added_columns or self.added_rows or self.formatting)


class Register(ABC):
    """Tabs of rows with headers. Implementations must make `read` and `write` one round trip."""

    @abstractmethod
    def describe(self) -> str:
        """Where the register lives, in French, for messages to users."""

    @abstractmethod
    def read(self, tabs: Sequence[str]) -> dict[str, Table]:
        """Read all rows of the given tabs in one request. Missing tabs come back empty."""

    @abstractmethod
    def write(self, changes: Iterable[CellChange]) -> int:
        """Apply cell changes in one request; return the number of cells written."""

    @abstractmethod
    def append(self, tab: str, rows: Sequence[Mapping[str, str]]) -> list[int]:
        """Append rows (missing columns left empty); return their keys."""

    @abstractmethod
    def initialise(self) -> InitReport:
        """Create missing tabs, headers and default rows. Idempotent."""

    def protections(self) -> Mapping[str, Sequence[Protection]] | None:
        """The current protections of the tabs that decide who may send alerts (`Alertes`,
        `Habilitations`), read afresh; None when the register has no such notion (a local
        file: whoever can write it can write alerts)."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""

    def __enter__(self) -> Register:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

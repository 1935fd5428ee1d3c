"""The shape of register data every layer shares: a tab (`Table`) of rows (`Row`) with headers,
and one cell to write (`CellChange`). The register backends read and write them; cleaning, the
cycle and the reports only compute with them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from sender import schema


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

"""Rows of a Google Sheet tab as the register sees them: header positions, `Table`s from
fetched values, column lookup, and locating an appended block after an ambiguous failure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sender.errors import RegisterError
from sender.register.sheets.banner import is_banner
from sender.tables import Row, Table


def header_positions(header_row: Sequence[Any]) -> dict[str, int]:
    """Header name → 0-based column; blank headers and the `Alertes` banner skipped, the first
    duplicate wins."""
    positions: dict[str, int] = {}
    for index, cell in enumerate(header_row):
        name = str(cell).strip() if cell is not None else ""
        if name and name not in positions and not is_banner(name):
            positions[name] = index
    return positions


def table_of(tab: str, positions: Mapping[str, int], values: list[list[Any]]) -> Table:
    """The non-blank data rows of `values` (header row first); keys are sheet row numbers."""
    rows: list[Row] = []
    for number, raw in enumerate(values[1:], start=2):
        cells = ["" if v is None else str(v) for v in raw]
        if not any(c.strip() for c in cells):
            continue
        width = len(cells)
        rows.append(
            Row(number, {h: cells[i] if i < width else "" for h, i in positions.items()})
        )
    return Table(tab, list(positions), rows)


def find_column(positions: Mapping[str, int], column: str) -> int | None:
    """Column index of `column`, exact first, then ignoring case and surrounding spaces."""
    if column in positions:
        return positions[column]
    folded = column.strip().casefold()
    for name, index in positions.items():
        if name.casefold() == folded:
            return index
    return None


def require_column(positions: Mapping[str, int], tab: str, column: str) -> int:
    """Like `find_column`, raising a French `RegisterError` when the column is missing."""
    index = find_column(positions, column)
    if index is not None:
        return index
    raise RegisterError(
        f"La colonne « {column} » manque dans l'onglet « {tab} » : lancez "
        "« alerte-message initialiser »."
    )

def lines_of(records: list[dict[str, str]], positions: Mapping[str, int]) -> list[list[str]]:
    """Records laid out as sheet lines, each cell at its header's column."""
    width = max(positions.values()) + 1
    body_rows = []
    for record in records:
        line = [""] * width
        for name, index in positions.items():
            line[index] = record[name]
        body_rows.append(line)
    return body_rows


def find_block(values: list[list[Any]], block: list[list[str]]) -> int | None:
    """Sheet row number where `block` sits, searching from the end of the tab."""

    def norm(row: Sequence[Any]) -> tuple[str, ...]:
        cells = ["" if v is None else str(v) for v in row]
        while cells and cells[-1] == "":
            cells.pop()
        return tuple(cells)

    wanted = [norm(r) for r in block]
    rows = [norm(r) for r in values]
    for start in range(len(rows) - len(wanted), 0, -1):
        if rows[start : start + len(wanted)] == wanted:
            return start + 1
    return None


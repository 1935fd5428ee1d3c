"""Staff editing a sheet by hand while the sender works: the edits themselves (sort, insert or
delete rows, insert or move columns, type cells) and when they happen (between two of the
sender's requests)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from support.emulators.sheets.cells import is_empty, render
from support.emulators.sheets.state import SheetState, store


class EditSchedule:
    """Edits waiting for their moment: each runs just before a request of its kinds, once
    `skip` such requests have gone by."""

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._edits: list[list[Any]] = []  # [action, kinds or None, requests to let by]

    def add(self, action: Callable[[], None], kinds: Iterable[str] | None, skip: int) -> None:
        with self._lock:
            self._edits.append([action, frozenset(kinds) if kinds else None, skip])

    def clear(self) -> None:
        with self._lock:
            self._edits.clear()

    def run_due(self, kind: str) -> None:
        """Run the edits due before a request of `kind`."""
        with self._lock:
            due = []
            for edit in list(self._edits):
                if edit[1] is not None and kind not in edit[1]:
                    continue
                if edit[2] > 0:
                    edit[2] -= 1
                    continue
                self._edits.remove(edit)
                due.append(edit[0])
            for action in due:
                action()


def column_position(sheet: SheetState, column: str | int) -> int:
    """0-based index of a header name (row 1) or of a 1-based column number."""
    if isinstance(column, int):
        return column - 1
    return [str(v) for v in (sheet.rows[0] if sheet.rows else [])].index(column)


def type_values(sheet: SheetState, rows: Sequence[Sequence[Any]], start_row: int,
                start_col: int) -> None:
    """Cells typed as a member of staff would (strings stored as typed, no parsing)."""
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            store(sheet, start_row - 1 + i, start_col - 1 + j, value)


def sort_rows(sheet: SheetState, column: str | int, reverse: bool) -> None:
    """Sort the rows below the header by one column, as « Trier la feuille de A à Z »."""
    index = column_position(sheet, column)
    body = [r for r in sheet.rows[1:] if any(not is_empty(v) for v in r)]
    blanks = len(sheet.rows) - 1 - len(body)

    def value(row: list[Any]) -> str:
        cell = row[index] if index < len(row) else ""
        return str(render(cell, "FORMATTED_VALUE"))

    body.sort(key=value, reverse=reverse)
    sheet.rows[1:] = body + [[] for _ in range(blanks)]


def insert_rows(sheet: SheetState, before: int, count: int,
                values: Sequence[Sequence[Any]]) -> None:
    """Insert `count` rows above sheet row `before` (1-based), filled with `values`."""
    while len(sheet.rows) < before - 1:
        sheet.rows.append([])
    new = [list(values[i]) if i < len(values) else [] for i in range(count)]
    sheet.rows[before - 1:before - 1] = new
    sheet.row_count += count


def delete_rows(sheet: SheetState, row: int, count: int) -> None:
    """Delete `count` sheet rows from row `row` (1-based); the rows below move up."""
    del sheet.rows[row - 1:row - 1 + count]
    sheet.row_count -= count


def insert_columns(sheet: SheetState, before: int, count: int, headers: Sequence[str]) -> None:
    """Insert `count` columns left of column `before` (1-based), with these headers."""
    for number, row in enumerate(sheet.rows):
        while len(row) < before - 1:
            row.append("")
        cells = list(headers) + [""] * (count - len(headers)) if number == 0 else (
            [""] * count)
        row[before - 1:before - 1] = cells
    sheet.column_count += count


def move_column(sheet: SheetState, column: str | int, before: int) -> None:
    """Move one column (by header or 1-based number) left of column `before` (1-based, in
    the sheet as it was), as dragging a column header does."""
    index = column_position(sheet, column)
    width = max(len(r) for r in sheet.rows) if sheet.rows else 0
    target = before - 1 if before - 1 < index else before - 2
    for row in sheet.rows:
        row.extend([""] * (width - len(row)))
        cell = row.pop(index)
        row.insert(target, cell)

"""Formulas evaluated when read (`formulas`), NOW() moving as the spreadsheet's `autoRecalc`
lets it (on each change only, or also every minute or hour), and conditional format rules with
a custom formula applied to a cell."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from support.emulators.sheets.cells import Cell, number_cell
from support.emulators.sheets.formulas import Context, FormulaError, evaluate
from support.emulators.sheets.state import SheetState, SpreadsheetState

# Endpoints that change a spreadsheet (NOW() with `ON_CHANGE` moves only then).
CHANGES = frozenset({"batch_update", "values_batch_update", "values_batch_clear",
                     "values_append", "values_clear", "values_update"})
MAX_DEPTH = 20


def now_of(state: SpreadsheetState) -> datetime:
    now = state.clock()
    if state.auto_recalc == "MINUTE":
        return now.replace(second=0, microsecond=0)
    if state.auto_recalc == "HOUR":
        return now.replace(minute=0, second=0, microsecond=0)
    if state.changed_at is None:
        state.changed_at = now
    return state.changed_at


def context(state: SpreadsheetState, sheet: SheetState, depth: int = 0) -> Context:
    def target(name: str | None) -> SheetState:
        found = sheet if name is None else state.by_title(name)
        if found is None:
            raise FormulaError("#REF!")
        return found

    def cell(name: str | None, row: int, col: int) -> Any:
        other = target(name)
        rows = other.rows
        value = rows[row][col] if row < len(rows) and col < len(rows[row]) else None
        if depth > MAX_DEPTH:
            raise FormulaError("#REF!")
        value = resolve(state, other, value, depth + 1)
        if isinstance(value, Cell):
            if isinstance(value.value, str) and value.value.startswith("#"):
                raise FormulaError(value.value)
            return value.value
        return value

    return Context(cell=cell, height=lambda name: len(target(name).rows), now=now_of(state))


def resolve(state: SpreadsheetState, sheet: SheetState, cell: Any, depth: int = 0) -> Any:
    """A formula cell with its value computed now; any other cell as it is."""
    if not isinstance(cell, Cell) or not cell.dynamic or cell.formula is None:
        return cell
    try:
        value = evaluate(cell.formula, context(state, sheet, depth))
    except FormulaError as error:
        return Cell(error.code, error.code, cell.formula)
    if isinstance(value, str):
        return Cell(value, value, cell.formula)
    if isinstance(value, bool):
        return Cell(value, "TRUE" if value else "FALSE", cell.formula)
    result = number_cell(value)
    result.formula = cell.formula
    return result


def covers(grid: dict[str, Any], row: int, col: int) -> bool:
    """Whether a `GridRange` holds the 0-based cell (row, col)."""
    r1, c1 = grid.get("endRowIndex"), grid.get("endColumnIndex")
    return (int(grid.get("startRowIndex", 0)) <= row and (r1 is None or row < int(r1))
            and int(grid.get("startColumnIndex", 0)) <= col and (c1 is None or col < int(c1)))


def conditional_format(state: SpreadsheetState, sheet: SheetState, row: int,
                       col: int) -> dict[str, Any] | None:
    """The format of the first rule covering the 0-based cell whose custom formula is true now,
    as Google applies them; None if none."""
    for rule in sheet.conditional_rules:
        if not any(covers(grid, row, col) for grid in rule.get("ranges", [])):
            continue
        boolean = rule.get("booleanRule", {})
        condition = boolean.get("condition", {})
        if condition.get("type") != "CUSTOM_FORMULA":
            continue
        formula = condition.get("values", [{}])[0].get("userEnteredValue", "")
        try:
            value = evaluate(formula, context(state, sheet))
        except FormulaError:
            continue
        if value is True or (not isinstance(value, str) and value):
            return dict(boolean.get("format", {}))
    return None

"""``POST /v4/spreadsheets/{id}:batchUpdate``: its requests (addSheet, deleteSheet,
updateSheetProperties, appendDimension, deleteDimension, setDataValidation, repeatCell,
addProtectedRange, updateProtectedRange, deleteProtectedRange, updateSpreadsheetProperties,
updateCells, add/deleteConditionalFormatRule) applied atomically, or none."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from support.emulators.sheets.cells import Cell, number_cell, user_entered
from support.emulators.sheets.errors import ApiError
from support.emulators.sheets.protected import check_editors, kept_editors, wire_protected_range
from support.emulators.sheets.state import (
    DEFAULT_COLUMNS,
    DEFAULT_ROWS,
    SheetState,
    SpreadsheetState,
    store,
)
from support.emulators.sheets_schema import Invalid, discovery


def batch_update(
    state: SpreadsheetState, range_text: str | None, query: dict[str, list[str]], body: Any
) -> dict[str, Any]:
    requests_ = (body or {}).get("requests", [])
    # Atomic: work on copies, swap in only if every request succeeds.
    sheets = [s.copy() for s in state.sheets]
    work = SpreadsheetState(state.key, state.title, sheets, allowed=True,
                            next_protected_id=state.next_protected_id, owner=state.owner,
                            auto_recalc=state.auto_recalc, time_zone=state.time_zone)
    replies = []
    for number, request in enumerate(requests_):
        if not isinstance(request, dict) or len(request) != 1:
            raise ApiError(400, f"Invalid requests[{number}]: exactly one kind expected")
        (name, payload), = request.items()
        method = REQUESTS.get(name)
        if method is None:  # a valid request the emulator does not play (yet)
            raise ApiError(501, f"Invalid requests[{number}].{name}: not implemented by "
                                "the emulator.")
        replies.append(method(work, number, payload))
    state.sheets = work.sheets
    state.next_protected_id = work.next_protected_id
    state.auto_recalc, state.time_zone = work.auto_recalc, work.time_zone
    state.batch_requests.extend(requests_)
    return {"spreadsheetId": state.key, "replies": replies}


def _grid_sheet(work: SpreadsheetState, number: int, name: str,
                grid: dict[str, Any]) -> SheetState:
    sheet = work.by_id(int(grid.get("sheetId", 0)))
    if sheet is None:
        raise ApiError(400, f"Invalid requests[{number}].{name}: No grid with id: "
                            f"{grid.get('sheetId', 0)}")
    return sheet


def _addSheet(work: SpreadsheetState, number: int, payload: dict) -> dict:
    props = payload.get("properties", {})
    if props.get("sheetId") is not None and int(props["sheetId"]) < 0:
        raise ApiError(400, f"Invalid requests[{number}].addSheet: Invalid sheetId "
                            f"{props['sheetId']}: sheet IDs must be non-negative.")
    title = props.get("title") or f"Feuille {len(work.sheets) + 1}"
    if work.by_title(title) is not None:  # whatever the case, as Google
        raise ApiError(400, f"Invalid requests[{number}].addSheet: A sheet with the name "
                            f'"{title}" already exists. Please enter another name.')
    sheet_id = props.get("sheetId")
    if sheet_id is None:
        sheet_id = max((s.sheet_id for s in work.sheets), default=0) + 101
    elif work.by_id(int(sheet_id)) is not None:
        raise ApiError(400, f"Invalid requests[{number}].addSheet: Sheet with id "
                            f"{sheet_id} already exists.")
    grid = props.get("gridProperties", {})
    index = props.get("index", len(work.sheets))
    for other in work.sheets:
        if other.index >= index:
            other.index += 1
    sheet = SheetState(
        sheet_id=int(sheet_id), title=title, index=int(index),
        row_count=int(grid.get("rowCount", DEFAULT_ROWS)),
        column_count=int(grid.get("columnCount", DEFAULT_COLUMNS)),
        frozen_rows=int(grid.get("frozenRowCount", 0)),
    )
    work.sheets.append(sheet)
    return {"addSheet": {"properties": sheet.properties()}}


def _deleteSheet(work: SpreadsheetState, number: int, payload: dict) -> dict:
    sheet = _grid_sheet(work, number, "deleteSheet", payload)
    work.sheets.remove(sheet)
    return {}


def _updateSheetProperties(work: SpreadsheetState, number: int,
                               payload: dict) -> dict:
    props = payload.get("properties", {})
    sheet = _grid_sheet(work, number, "updateSheetProperties", props)
    fields = payload.get("fields", "")
    if not fields:
        raise ApiError(400, f"Invalid requests[{number}].updateSheetProperties: "
                            "You must specify at least one field to update.")
    _mask(number, "updateSheetProperties", "SheetProperties", fields)
    grid = props.get("gridProperties", {})
    for path in (f.strip().replace("/", ".") for f in fields.split(",")):
        if path in ("*", "title") and "title" in props:
            other = work.by_title(props["title"])
            if other is not None and other is not sheet:
                raise ApiError(400, f"Invalid requests[{number}].updateSheetProperties: A "
                                    f'sheet with the name "{props["title"]}" already '
                                    "exists. Please enter another name.")
            sheet.title = props["title"]
        if path in ("*", "gridProperties", "gridProperties.frozenRowCount"):
            sheet.frozen_rows = int(grid.get("frozenRowCount", 0))
        if path in ("*", "gridProperties", "gridProperties.rowCount") and "rowCount" in grid:
            sheet.row_count = int(grid["rowCount"])
        if path in ("*", "gridProperties", "gridProperties.columnCount") and (
            "columnCount" in grid
        ):
            sheet.column_count = int(grid["columnCount"])
    return {}


def _appendDimension(work: SpreadsheetState, number: int, payload: dict) -> dict:
    sheet = _grid_sheet(work, number, "appendDimension", payload)
    length = int(payload.get("length", 0))
    if length <= 0:
        raise ApiError(400, f"Invalid requests[{number}].appendDimension: length must be > 0")
    if payload.get("dimension") == "COLUMNS":
        sheet.column_count += length
    else:
        sheet.row_count += length
    return {}


def _deleteDimension(work: SpreadsheetState, number: int, payload: dict) -> dict:
    """Rows (or columns) [startIndex, endIndex) removed; those after them move up (left)."""
    grid = payload.get("range", {})
    sheet = _grid_sheet(work, number, "deleteDimension", grid)
    columns = grid.get("dimension") == "COLUMNS"
    if grid.get("dimension") not in ("ROWS", "COLUMNS"):
        raise ApiError(400, f"Invalid requests[{number}].deleteDimension: dimension must be "
                            "ROWS or COLUMNS")
    start, end = int(grid.get("startIndex", 0)), grid.get("endIndex")
    size = sheet.column_count if columns else sheet.row_count
    end = size if end is None else int(end)
    if not 0 <= start < end <= size:
        raise ApiError(400, f"Invalid requests[{number}].deleteDimension: Invalid range "
                            f"[{start}, {end}) for a sheet of {size}")
    if end - start == size:
        raise ApiError(400, f"Invalid requests[{number}].deleteDimension: You can't delete "
                            "all the rows on the sheet.")
    if columns:
        sheet.rows = [row[:start] + row[end:] for row in sheet.rows]
        sheet.column_count -= end - start
    else:
        sheet.rows = sheet.rows[:start] + sheet.rows[end:]  # a new list: the batch is atomic
        sheet.row_count -= end - start
    return {}


def _setDataValidation(work: SpreadsheetState, number: int, payload: dict) -> dict:
    sheet = _grid_sheet(work, number, "setDataValidation", payload.get("range", {}))
    sheet.validations.append(payload)
    return {}


def _repeatCell(work: SpreadsheetState, number: int, payload: dict) -> dict:
    grid = payload.get("range", {})
    sheet = _grid_sheet(work, number, "repeatCell", grid)
    if not payload.get("fields"):
        raise ApiError(400, f"Invalid requests[{number}].repeatCell: "
                            "At least one field must be specified.")
    _mask(number, "repeatCell", "CellData", payload["fields"])
    sheet.formats.append(payload)
    fmt = payload.get("cell", {}).get("userEnteredFormat", {}).get("numberFormat", {})
    if fmt.get("type") == "TEXT":
        sheet.text_ranges.append((
            int(grid.get("startRowIndex", 0)), grid.get("endRowIndex"),
            int(grid.get("startColumnIndex", 0)), grid.get("endColumnIndex"),
        ))
    return {}


def _mask(number: int, name: str, schema: str, fields: str) -> None:
    try:
        discovery().check_mask(schema, fields)
    except Invalid as exc:
        raise ApiError(400, f"Invalid requests[{number}].{name}: {exc.message}") from None


def _addProtectedRange(work: SpreadsheetState, number: int, payload: dict) -> dict:
    protected = dict(payload.get("protectedRange", {}))
    if protected.get("warningOnly") and protected.get("editors"):
        raise ApiError(400, f"Invalid requests[{number}].addProtectedRange: Editors are not "
                            "supported with warning_only protection.")
    sheet = _grid_sheet(work, number, "addProtectedRange", protected.get("range", {}))
    check_editors(number, "addProtectedRange", protected)
    protected["protectedRangeId"] = work.next_protected_id
    work.next_protected_id += 1
    protected.setdefault("warningOnly", False)
    requested = list((protected.get("editors") or {}).get("users") or [])
    protected["editors"] = kept_editors(protected.get("editors"), work.owner)
    sheet.protected_ranges.append(protected)
    reply = wire_protected_range(protected, work.owner)
    if not requested:
        reply["editors"] = {}  # as Google answers (the metadata then lists the accounts)
    return {"addProtectedRange": {"protectedRange": reply}}


def _find_protected(work: SpreadsheetState, number: int, name: str,
                    range_id: Any) -> tuple[SheetState, int]:
    for sheet in work.sheets:
        for index, item in enumerate(sheet.protected_ranges):
            if item.get("protectedRangeId") == range_id:
                return sheet, index
    raise ApiError(400, f"Invalid requests[{number}].{name}: No protected range with id: "
                        f"{range_id}")


def _updateProtectedRange(work: SpreadsheetState, number: int,
                              payload: dict) -> dict:
    changes = payload.get("protectedRange", {})
    fields = payload.get("fields", "")
    if not fields:
        raise ApiError(400, f"Invalid requests[{number}].updateProtectedRange: "
                            "You must specify at least one field to update.")
    sheet, index = _find_protected(work, number, "updateProtectedRange",
                                        changes.get("protectedRangeId"))
    item = dict(sheet.protected_ranges[index])
    for path in (f.strip() for f in fields.split(",")):
        top = path.split(".")[0]
        if path == "*":
            item.update({k: v for k, v in changes.items() if k != "protectedRangeId"})
        elif top in ("range", "description", "warningOnly", "editors", "namedRangeId",
                     "unprotectedRanges"):
            if top in changes:
                item[top] = changes[top]
            else:
                item.pop(top, None)
        else:
            raise ApiError(400, f"Invalid requests[{number}].updateProtectedRange: "
                                f"Invalid field mask: {path}")
    check_editors(number, "updateProtectedRange", item)
    item["editors"] = kept_editors(item.get("editors"), work.owner)
    sheet.protected_ranges[index] = item
    return {}


def _deleteProtectedRange(work: SpreadsheetState, number: int,
                              payload: dict) -> dict:
    sheet, index = _find_protected(work, number, "deleteProtectedRange",
                                        payload.get("protectedRangeId"))
    del sheet.protected_ranges[index]
    return {}


def _updateSpreadsheetProperties(work: SpreadsheetState, number: int, payload: dict) -> dict:
    fields = payload.get("fields", "")
    if not fields:
        raise ApiError(400, f"Invalid requests[{number}].updateSpreadsheetProperties: "
                            "You must specify at least one field to update.")
    _mask(number, "updateSpreadsheetProperties", "SpreadsheetProperties", fields)
    props = payload.get("properties", {})
    for path in (f.strip() for f in fields.split(",")):
        if path in ("*", "autoRecalc"):
            work.auto_recalc = props.get("autoRecalc", "ON_CHANGE")
        if path in ("*", "timeZone") and props.get("timeZone"):
            work.time_zone = props["timeZone"]
    return {}


def _addConditionalFormatRule(work: SpreadsheetState, number: int, payload: dict) -> dict:
    rule = dict(payload.get("rule", {}))
    ranges = rule.get("ranges", [])
    if not ranges:
        raise ApiError(400, f"Invalid requests[{number}].addConditionalFormatRule: "
                            "At least one range must be specified.")
    sheet = _grid_sheet(work, number, "addConditionalFormatRule", ranges[0])
    index = int(payload.get("index", 0))
    sheet.conditional_rules.insert(min(index, len(sheet.conditional_rules)), rule)
    return {}


def _deleteConditionalFormatRule(work: SpreadsheetState, number: int, payload: dict) -> dict:
    sheet = _grid_sheet(work, number, "deleteConditionalFormatRule", payload)
    index = int(payload.get("index", 0))
    if index >= len(sheet.conditional_rules):
        raise ApiError(400, f"Invalid requests[{number}].deleteConditionalFormatRule: No "
                            f"conditional format on sheet {sheet.sheet_id} at index {index}")
    del sheet.conditional_rules[index]
    return {"deleteConditionalFormatRule": {"rule": {}}}


def _updateCells(work: SpreadsheetState, number: int, payload: dict) -> dict:
    """Values only (`userEnteredValue`), from a `start` cell; formats are not played."""
    if not payload.get("fields"):
        raise ApiError(400, f"Invalid requests[{number}].updateCells: "
                            "At least one field must be specified.")
    _mask(number, "updateCells", "CellData", payload["fields"])
    start = payload.get("start")
    if start is None:
        raise ApiError(501, f"Invalid requests[{number}].updateCells: only `start` is played "
                            "by the emulator.")
    sheet = _grid_sheet(work, number, "updateCells", start)
    sheet.rows = [list(r) for r in sheet.rows]  # the copy shares its rows with the live state
    r0, c0 = int(start.get("rowIndex", 0)), int(start.get("columnIndex", 0))
    for i, row in enumerate(payload.get("rows", [])):
        for j, data in enumerate(row.get("values", [])):
            entered = data.get("userEnteredValue")
            if entered is None:
                continue
            if r0 + i >= sheet.row_count or c0 + j >= sheet.column_count:
                raise ApiError(400, f"Invalid requests[{number}].updateCells: range exceeds "
                                    "grid limits.")
            store(sheet, r0 + i, c0 + j, _entered(entered))
    return {}


def _entered(value: dict[str, Any]) -> Any:
    """An `ExtendedValue` as a stored cell."""
    if "formulaValue" in value:
        return user_entered(str(value["formulaValue"]))
    if "numberValue" in value:
        return number_cell(value["numberValue"])
    if "boolValue" in value:
        return Cell(bool(value["boolValue"]), "TRUE" if value["boolValue"] else "FALSE")
    return str(value.get("stringValue", ""))


REQUESTS: dict[str, Callable[[SpreadsheetState, int, dict], dict]] = {
    "addSheet": _addSheet,
    "deleteSheet": _deleteSheet,
    "updateSheetProperties": _updateSheetProperties,
    "appendDimension": _appendDimension,
    "deleteDimension": _deleteDimension,
    "setDataValidation": _setDataValidation,
    "repeatCell": _repeatCell,
    "addProtectedRange": _addProtectedRange,
    "updateProtectedRange": _updateProtectedRange,
    "deleteProtectedRange": _deleteProtectedRange,
    "updateSpreadsheetProperties": _updateSpreadsheetProperties,
    "addConditionalFormatRule": _addConditionalFormatRule,
    "deleteConditionalFormatRule": _deleteConditionalFormatRule,
    "updateCells": _updateCells,
}

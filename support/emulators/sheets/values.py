"""The ``values`` endpoints: read, write (update, batch update, append) and clear cells, with
Google's checks on ranges and grid limits and its table detection for appends."""

from __future__ import annotations

from typing import Any

from support.emulators.sheets.a1 import (
    GridRef,
    a1_range,
    column_letter,
    parse_range,
    sheet_prefix,
)
from support.emulators.sheets.cells import (
    Cell,
    is_empty,
    number_cell,
    render,
    transpose,
    trimmed,
    user_entered,
)
from support.emulators.sheets.errors import ApiError
from support.emulators.sheets.recalc import resolve
from support.emulators.sheets.routes import param
from support.emulators.sheets.state import SheetState, SpreadsheetState, store

Query = dict[str, list[str]]


def _read(state: SpreadsheetState, text: str, option: str, major: str) -> dict[str, Any]:
    ref = parse_range(state, text)
    r0, r1, c0, c1 = ref.clipped()
    rows = [
        [render(resolve(state, ref.sheet, cell), option) for cell in row[c0:c1]]
        for row in ref.sheet.rows[r0:r1]
    ]
    values = trimmed(rows)
    if major == "COLUMNS":
        values = trimmed(
            [[("" if v is None else v) for v in col] for col in transpose(values)]
        )
    result: dict[str, Any] = {"range": ref.a1(), "majorDimension": major}
    if values:
        result["values"] = values
    return result


def values_get(
    state: SpreadsheetState, range_text: str, query: Query, body: Any
) -> dict[str, Any]:
    option = param(query, "valueRenderOption", "FORMATTED_VALUE")
    major = param(query, "majorDimension", "ROWS")
    return _read(state, range_text, option, major)


def values_batch_get(
    state: SpreadsheetState, range_text: str, query: Query, body: Any
) -> dict[str, Any]:
    option = param(query, "valueRenderOption", "FORMATTED_VALUE")
    major = param(query, "majorDimension", "ROWS")
    ranges = query.get("ranges", [])
    return {
        "spreadsheetId": state.key,
        "valueRanges": [_read(state, text, option, major) for text in ranges],
    }


def _convert(sheet: SheetState, row: int, col: int, value: Any, option: str) -> Any:
    if isinstance(value, bool):
        return Cell(value, "TRUE" if value else "FALSE")
    if isinstance(value, int | float):
        return number_cell(value)
    text = str(value)
    if option == "USER_ENTERED" and text and not sheet.is_text(row, col):
        return user_entered(text)
    return text


def _input_option(value: str | None) -> str:
    if value not in ("RAW", "USER_ENTERED"):
        if not value:
            raise ApiError(400, "'valueInputOption' is required but not specified")
        raise ApiError(400, f"Invalid value at 'value_input_option' ({value})")
    return value


def _plan_write(
    state: SpreadsheetState, text: str, values: list[list[Any]], major: str, *,
    append_row: int | None = None,
) -> tuple[GridRef, list[list[Any]]]:
    ref = parse_range(state, text)
    if not isinstance(values, list) or not all(isinstance(r, list) for r in values):
        raise ApiError(400, "Invalid values: expected a list of lists")
    if major == "COLUMNS":
        values = transpose(values)
    if append_row is not None:
        ref = GridRef(ref.sheet, append_row, None, ref.c0, ref.c1)
    height = len(values)
    width = max((len(r) for r in values), default=0)
    if not ref.single and append_row is None:
        if ref.r1 is not None and height > ref.r1 - ref.r0:
            raise ApiError(
                400,
                f"Requested writing within range [{text}], but tried writing to row "
                f"[{ref.r0 + height}]",
            )
        if ref.c1 is not None and width > ref.c1 - ref.c0:
            raise ApiError(
                400,
                f"Requested writing within range [{text}], but tried writing to column "
                f"[{column_letter(ref.c0 + width - 1)}]",
            )
    sheet = ref.sheet
    if append_row is None and (
        ref.r0 + height > sheet.row_count or ref.c0 + width > sheet.column_count
    ):
        raise ApiError(
            400,
            f"Range ({sheet_prefix(sheet.title)}!{column_letter(ref.c0 + max(width, 1) - 1)}"
            f"{ref.r0 + max(height, 1)}) exceeds grid limits. Max rows: {sheet.row_count}, "
            f"max columns: {sheet.column_count}",
        )
    return ref, values


def _apply_write(ref: GridRef, values: list[list[Any]], option: str) -> dict[str, Any]:
    sheet = ref.sheet
    cells = 0
    for i, row in enumerate(values):
        for j, value in enumerate(row):
            if value is None:
                continue
            r, c = ref.r0 + i, ref.c0 + j
            store(sheet, r, c, _convert(sheet, r, c, value, option))
            cells += 1
    height = len(values)
    width = max((len(r) for r in values), default=0)
    result: dict[str, Any] = {
        "updatedRange": a1_range(
            sheet.title, ref.r0, ref.r0 + max(height, 1), ref.c0, ref.c0 + max(width, 1)
        ),
        "updatedRows": height,
        "updatedColumns": width,
        "updatedCells": cells,
    }
    return result


def values_update(
    state: SpreadsheetState, range_text: str, query: Query, body: Any
) -> dict[str, Any]:
    option = _input_option(param(query, "valueInputOption", ""))
    body = body or {}
    ref, values = _plan_write(
        state, range_text, body.get("values", []), body.get("majorDimension", "ROWS")
    )
    return {"spreadsheetId": state.key, **_apply_write(ref, values, option)}


def values_batch_update(
    state: SpreadsheetState, range_text: str, query: Query, body: Any
) -> dict[str, Any]:
    body = body or {}
    option = _input_option(body.get("valueInputOption"))
    plans = [
        _plan_write(
            state, item.get("range", ""), item.get("values", []),
            item.get("majorDimension", "ROWS"),
        )
        for item in body.get("data", [])
    ]
    responses = [
        {"spreadsheetId": state.key, **_apply_write(ref, values, option)}
        for ref, values in plans
    ]
    return {
        "spreadsheetId": state.key,
        "totalUpdatedRows": sum(r["updatedRows"] for r in responses),
        "totalUpdatedColumns": max((r["updatedColumns"] for r in responses), default=0),
        "totalUpdatedCells": sum(r["updatedCells"] for r in responses),
        "totalUpdatedSheets": len({ref.sheet.sheet_id for ref, _ in plans}),
        "responses": responses,
    }


def values_append(
    state: SpreadsheetState, range_text: str, query: Query, body: Any
) -> dict[str, Any]:
    """Google's table detection: the table is the first block of consecutive non-empty rows
    at or below the range's first row (within its columns); values go on the row after it,
    or on the range's first row when there is no table. A blank row inside the data ends
    the table, so an append from A1 lands in the first blank row."""
    option = _input_option(param(query, "valueInputOption", ""))
    insert = param(query, "insertDataOption", "OVERWRITE")
    ref = parse_range(state, range_text)
    sheet = ref.sheet
    c0, c1 = ref.c0, (None if ref.single else ref.c1)

    def filled(index: int) -> bool:
        row = sheet.rows[index] if index < len(sheet.rows) else []
        span = row[c0:c1] if c1 is not None else row[c0:]
        return any(not is_empty(v) for v in span)

    top = next((i for i in range(ref.r0, len(sheet.rows)) if filled(i)), None)
    if top is None:
        start = ref.r0
    else:
        start = top
        while start < len(sheet.rows) and filled(start):
            start += 1
    body = body or {}
    values = body.get("values", [])
    if body.get("majorDimension") == "COLUMNS":
        values = transpose(values)
    height = len(values)
    width = max((len(r) for r in values), default=0)
    if ref.c1 is not None and not ref.single and width > ref.c1 - ref.c0:
        raise ApiError(400, f"Requested writing within range [{range_text}], but tried "
                            f"writing to column [{column_letter(ref.c0 + width - 1)}]")
    if ref.c0 + width > sheet.column_count:
        raise ApiError(400, f"Range ({sheet_prefix(sheet.title)}!"
                            f"{column_letter(ref.c0 + width - 1)}{start + 1}) exceeds grid "
                            f"limits. Max rows: {sheet.row_count}, max columns: "
                            f"{sheet.column_count}")
    if insert == "INSERT_ROWS":
        if start < len(sheet.rows):
            sheet.rows[start:start] = [[] for _ in range(height)]
        sheet.row_count += height
    else:
        sheet.row_count = max(sheet.row_count, start + height)
    write_ref = GridRef(sheet, start, None, c0, None)
    updates = _apply_write(write_ref, values, option)
    result: dict[str, Any] = {"spreadsheetId": state.key, "updates": {
        "spreadsheetId": state.key, **updates}}
    if top is not None:
        first = sheet.rows[top]
        end = c0
        while end < len(first) and not is_empty(first[end]):
            end += 1
        result["tableRange"] = a1_range(sheet.title, top, start, c0, max(end, c0 + 1))
    return result


def _clear(ref: GridRef) -> str:
    r0, r1, c0, c1 = ref.clipped()
    for row in ref.sheet.rows[r0:r1]:
        for c in range(c0, min(c1, len(row))):
            row[c] = ""
    return ref.a1()


def values_clear(
    state: SpreadsheetState, range_text: str, query: Query, body: Any
) -> dict[str, Any]:
    return {"spreadsheetId": state.key,
            "clearedRange": _clear(parse_range(state, range_text))}


def values_batch_clear(
    state: SpreadsheetState, range_text: str, query: Query, body: Any
) -> dict[str, Any]:
    refs = [parse_range(state, text) for text in (body or {}).get("ranges", [])]
    return {"spreadsheetId": state.key, "clearedRanges": [_clear(r) for r in refs]}

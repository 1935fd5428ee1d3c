"""A1 notation for the Sheets API: column letters, quoted tab names, row spans of an updated
range, and the grouping of changed cells into few `values:batchUpdate` ranges."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_RANGE_ROWS = re.compile(r"!\$?[A-Za-z]*\$?(\d+)(?::\$?[A-Za-z]*\$?(\d+))?$")
_MERGE_NULLS = 10  # a new range costs about as many bytes as ten `null` cells


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def quote_tab(tab: str) -> str:
    """The tab name as a quoted A1 sheet reference."""
    return "'" + tab.replace("'", "''") + "'"


def rows_of(updated_range: str) -> tuple[int, int] | None:
    """First and last row numbers of an A1 range such as `'Tab'!A5:F7`; `None` if unparsable."""
    match = _RANGE_ROWS.search(updated_range or "")
    if not match:
        return None
    first = int(match.group(1))
    return first, int(match.group(2) or first)


def cell_ranges(tab: str, rows: Mapping[int, Mapping[int, str]]) -> list[dict[str, Any]]:
    """Few ranges for the changed cells of one tab; cells in between are `null` (left as is).

    Consecutive rows share a range when widening it costs fewer `null`s than a new range.
    """
    result: list[dict[str, Any]] = []
    run: list[dict[int, str]] = []
    first = last = run_start = 0

    def flush() -> None:
        if run:
            result.append({
                "range": f"{quote_tab(tab)}!{column_letter(first)}{run_start}:"
                         f"{column_letter(last)}{run_start + len(run) - 1}",
                "majorDimension": "ROWS",
                "values": [[cells.get(i) for i in range(first, last + 1)] for cells in run],
            })

    for key in sorted(rows):
        cells = rows[key]
        low, high = min(cells), max(cells)
        if run and key == run_start + len(run):
            new_first, new_last = min(first, low), max(last, high)
            widen = (new_last - new_first - (last - first)) * len(run)
            widen += (new_last - new_first) - (high - low)
            if widen <= _MERGE_NULLS:
                run.append(cells)
                first, last = new_first, new_last
                continue
        flush()
        run, first, last, run_start = [cells], low, high, key
    flush()
    return result

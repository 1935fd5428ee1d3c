"""A1 ranges the register needs beyond `gspread.utils` (which writes the cell names and quotes
the tab names): the first row of an updated range, and the grouping of changed cells into few
`values:batchUpdate` ranges."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gspread.exceptions import IncorrectCellLabel
from gspread.utils import a1_to_rowcol, absolute_range_name, rowcol_to_a1

_MERGE_NULLS = 10  # a new range costs about as many bytes as ten `null` cells


def first_row(updated_range: str) -> int | None:
    """Row number where an A1 range such as `'Tab'!A5:F7` starts; `None` if unparsable."""
    start = (updated_range or "").rpartition("!")[2].partition(":")[0]
    try:
        return a1_to_rowcol(start)[0]
    except IncorrectCellLabel:
        return None


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
                "range": absolute_range_name(
                    tab,
                    f"{rowcol_to_a1(run_start, first + 1)}:"
                    f"{rowcol_to_a1(run_start + len(run) - 1, last + 1)}",
                ),
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

"""The emulator's control endpoints, for a test that runs it in another process
(`python -m support.emulators.sheets`): what the test would otherwise call in Python.

- ``GET  /_emulator/stats``: requests served by kind, their total, and the requests answered
  with an error (method, path, kind, status: a request Google would refuse is a 400 there);
- ``GET  /_emulator/spreadsheet?key=K``: each tab's title, cells (formatted, trimmed),
  protected ranges (wire format), data validations and frozen rows;
- ``POST /_emulator/staff``: a hand edit, ``{"action": "sort_rows" | "insert_rows" |
  "delete_rows" | "insert_columns" | "move_column" | "set_values", "key": K, "tab": T, …}``
  (the other fields are the keyword arguments of the `SheetsEmulator` method); with
  ``"next_request": KIND`` (and ``"skip": N``) the edit waits for the next request of that
  kind once N such requests have gone by (`between`), as a clerk editing while a command works;
- ``POST /_emulator/reset``: forget the counts (the spreadsheets stay).

These requests are not counted and never faulted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from support.emulators.sheets.protected import wire_protected_range

if TYPE_CHECKING:
    from support.emulators.sheets.emulator import SheetsEmulator

PREFIX = "/_emulator/"
STAFF_ACTIONS = frozenset(
    {"sort_rows", "insert_rows", "delete_rows", "insert_columns", "move_column", "set_values"}
)


def stats(emulator: SheetsEmulator) -> dict[str, Any]:
    with emulator._lock:
        return {
            "requests": dict(emulator.requests),
            "total": emulator.total_requests,
            "refused": [e for e in emulator.log if e["status"] >= 400 and not e["fault"]],
        }


def spreadsheet(emulator: SheetsEmulator, key: str) -> dict[str, Any]:
    with emulator._lock:
        state = emulator.spreadsheet(key)
        sheets = sorted(state.sheets, key=lambda s: s.index)
        return {
            "key": key,
            "title": state.title,
            "tabs": [
                {
                    "title": sheet.title,
                    "values": emulator.values(key, sheet.title),
                    "protected": [wire_protected_range(p, state.owner)
                                  for p in sheet.protected_ranges],
                    "validations": list(sheet.validations),
                    "frozen_rows": sheet.frozen_rows,
                    "row_count": sheet.row_count,
                }
                for sheet in sheets
            ],
        }


def staff_edit(emulator: SheetsEmulator, body: dict[str, Any]) -> dict[str, Any]:
    options = dict(body)
    action = options.pop("action", None)
    if action not in STAFF_ACTIONS:
        raise ValueError(f"unknown staff action: {action!r}")
    next_request = options.pop("next_request", None)
    skip = int(options.pop("skip", 0))
    edit = getattr(emulator, action)
    key, tab = options.pop("key"), options.pop("tab")
    if next_request:
        emulator.between(lambda: edit(key, tab, **options), kinds=[next_request], skip=skip)
        return {"planned": action}
    edit(key, tab, **options)
    return {"done": action}


def answer(emulator: SheetsEmulator, method: str, path: str, query: dict[str, list[str]],
           body: Any) -> tuple[int, dict[str, Any]]:
    """(status, JSON payload) of a control request."""
    name = path[len(PREFIX):]
    try:
        if method == "GET" and name == "stats":
            return 200, stats(emulator)
        if method == "GET" and name == "spreadsheet":
            return 200, spreadsheet(emulator, query.get("key", [""])[-1])
        if method == "POST" and name == "staff" and isinstance(body, dict):
            return 200, staff_edit(emulator, body)
        if method == "POST" and name == "reset":
            emulator.reset_counts()
            return 200, {"done": "reset"}
    except (KeyError, ValueError, TypeError, IndexError) as exc:
        return 400, {"error": f"{type(exc).__name__}: {exc}"}
    return 404, {"error": f"no control endpoint {method} {path}"}

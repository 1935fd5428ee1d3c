"""`SheetsEmulator`: the spreadsheets it keeps, what tests do to them (staff edits, faults,
access), the accounting of requests, and the endpoint that serves each kind of request."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from http.server import ThreadingHTTPServer
from typing import Any

from support.emulators.sheets import recalc, staff
from support.emulators.sheets.batch import batch_update
from support.emulators.sheets.cells import render as render_cell
from support.emulators.sheets.cells import trimmed
from support.emulators.sheets.drive import drive_permissions
from support.emulators.sheets.errors import ApiError
from support.emulators.sheets.faults import FaultPlan
from support.emulators.sheets.fields import get_metadata
from support.emulators.sheets.server import serve
from support.emulators.sheets.state import OWNER, SheetState, SpreadsheetState, new_spreadsheet
from support.emulators.sheets.values import (
    values_append,
    values_batch_clear,
    values_batch_get,
    values_batch_update,
    values_clear,
    values_get,
    values_update,
)
from support.emulators.sheets_schema import Invalid, discovery

Endpoint = Callable[[SpreadsheetState, Any, dict[str, list[str]], Any], dict[str, Any]]
ENDPOINTS: dict[str, Endpoint] = {
    "get_metadata": get_metadata,
    "batch_update": batch_update,
    "values_get": values_get,
    "values_batch_get": values_batch_get,
    "values_update": values_update,
    "values_batch_update": values_batch_update,
    "values_append": values_append,
    "values_clear": values_clear,
    "values_batch_clear": values_batch_clear,
}


class SheetsEmulator:
    """In-memory Google Sheets API v4 on 127.0.0.1, for tests and benchmarks."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._spreadsheets: dict[str, SpreadsheetState] = {}
        self.fault_plan = FaultPlan(self._lock)
        self.edits = staff.EditSchedule(self._lock)
        self.requests: Counter[str] = Counter()
        self.faulted: Counter[str] = Counter()
        self.delayed: Counter[str] = Counter()
        self.log: list[dict[str, Any]] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""
        self._clock: Callable[[], datetime] | None = None

    # lifecycle

    def start(self, port: int = 0) -> SheetsEmulator:
        self._server, self._thread = serve(self, port)
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> SheetsEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # spreadsheets

    def create_spreadsheet(
        self, key: str, tabs: dict[str, list[list[Any]]] | None = None, *, title: str = "",
        owner: str = OWNER,
    ) -> SpreadsheetState:
        """Create (or replace) a spreadsheet; ``tabs=None`` gives one empty « Feuille 1 »."""
        state = new_spreadsheet(key, tabs, title=title, owner=owner)
        with self._lock:
            if self._clock is not None:
                state.clock = self._clock
            self._spreadsheets[key] = state
        return state

    def spreadsheet(self, key: str) -> SpreadsheetState:
        return self._spreadsheets[key]

    def sheet(self, key: str, tab: str) -> SheetState:
        sheet = self._spreadsheets[key].by_title(tab)
        if sheet is None:
            raise KeyError(tab)
        return sheet

    def tabs(self, key: str) -> list[str]:
        with self._lock:
            return [s.title for s in sorted(self._spreadsheets[key].sheets, key=lambda s: s.index)]

    def values(self, key: str, tab: str, render: str = "FORMATTED_VALUE") -> list[list[Any]]:
        """The tab's cells as the API would return them (trimmed)."""
        with self._lock:
            state = self._spreadsheets[key]
            sheet = self.sheet(key, tab)
            return trimmed([[render_cell(recalc.resolve(state, sheet, c), render) for c in row]
                            for row in sheet.rows])

    def set_clock(self, clock: Callable[[], datetime]) -> None:
        """The wall time NOW() reads (in the spreadsheets' zone), for every spreadsheet."""
        with self._lock:
            self._clock = clock
            for state in self._spreadsheets.values():
                state.clock = clock

    def conditional_format(self, key: str, tab: str, row: int, col: int) -> dict[str, Any] | None:
        """The format a conditional rule gives the cell at (row, col), 1-based, now."""
        with self._lock:
            state = self._spreadsheets[key]
            return recalc.conditional_format(state, self.sheet(key, tab), row - 1, col - 1)

    def set_values(self, key: str, tab: str, rows: Sequence[Sequence[Any]], *, start_row: int = 1,
                   start_col: int = 1) -> None:
        """Write cells as a member of staff would (strings stored as typed, no parsing)."""
        with self._lock:
            staff.type_values(self.sheet(key, tab), rows, start_row, start_col)

    def share(self, key: str, permissions: list[dict[str, Any]] | None, *,
              drive_enabled: bool = True) -> None:
        """Set the Drive permissions of a spreadsheet (see `drive.drive_permissions`)."""
        with self._lock:
            self._spreadsheets[key].permissions = permissions
            self._spreadsheets[key].drive_enabled = drive_enabled

    def set_access(self, key: str, allowed: bool) -> None:
        """``False`` makes every request on this spreadsheet answer 403 PERMISSION_DENIED."""
        with self._lock:
            self._spreadsheets[key].allowed = allowed

    # staff editing the sheet while the sender works (between two of its requests)

    def between(self, action: Callable[[], None], *, kinds: Iterable[str] | None = None,
                skip: int = 0) -> None:
        """Run `action` — an edit as a clerk makes it (`sort_rows`, `insert_rows`…) — just
        before the next request (of `kinds`, if given) is handled, once `skip` such requests
        have gone by."""
        self.edits.add(action, kinds, skip)

    def sort_rows(self, key: str, tab: str, column: str | int, *, reverse: bool = False) -> None:
        with self._lock:
            staff.sort_rows(self.sheet(key, tab), column, reverse)

    def insert_rows(self, key: str, tab: str, before: int, count: int = 1,
                    values: Sequence[Sequence[Any]] = ()) -> None:
        with self._lock:
            staff.insert_rows(self.sheet(key, tab), before, count, values)

    def delete_rows(self, key: str, tab: str, row: int, count: int = 1) -> None:
        with self._lock:
            staff.delete_rows(self.sheet(key, tab), row, count)

    def insert_columns(self, key: str, tab: str, before: int, count: int = 1,
                       headers: Sequence[str] = ()) -> None:
        with self._lock:
            staff.insert_columns(self.sheet(key, tab), before, count, headers)

    def move_column(self, key: str, tab: str, column: str | int, before: int) -> None:
        with self._lock:
            staff.move_column(self.sheet(key, tab), column, before)

    # faults (see `FaultPlan`)

    def fail_next(self, n: int = 1, status: int = 429, message: str | None = None, *,
                  kinds: Iterable[str] | None = None) -> None:
        self.fault_plan.fail_next(n, status, message, kinds=kinds)

    def drop_next(self, n: int = 1, *, kinds: Iterable[str] | None = None) -> None:
        self.fault_plan.drop_next(n, kinds=kinds)

    def delay_next(self, n: int, seconds: float, *, kinds: Iterable[str] | None = None) -> None:
        self.fault_plan.delay_next(n, seconds, kinds=kinds)

    def faults(self, rate_429: float = 0.0, rate_5xx: float = 0.0, rate_drop: float = 0.0,
               seed: int | None = 0) -> None:
        self.fault_plan.at_random(rate_429, rate_5xx, rate_drop, seed)

    def clear_faults(self) -> None:
        self.fault_plan.clear()

    # accounting

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    def reset(self) -> None:
        """Forget the faults and edits still planned and the counts; spreadsheets stay."""
        self.clear_faults()
        self.edits.clear()
        self.reset_counts()

    def reset_counts(self) -> None:
        with self._lock:
            self.requests.clear()
            self.faulted.clear()
            self.delayed.clear()
            self.log.clear()

    def record(self, method: str, path: str, kind: str, status: int, fault: str | None) -> None:
        with self._lock:
            if fault in ("status", "drop"):
                self.faulted[kind] += 1
            else:
                self.requests[kind] += 1
                if fault == "delay":
                    self.delayed[kind] += 1
            self.log.append(
                {"method": method, "path": path, "kind": kind, "status": status, "fault": fault}
            )

    # request handling (called from handler threads)

    def handle(self, kind: str, key: str, range_text: str | None,
               query: dict[str, list[str]], body: Any) -> dict[str, Any]:
        if kind == "drive_permissions":
            with self._lock:
                return drive_permissions(self._spreadsheets.get(key), query)
        try:  # what Google refuses before looking at the spreadsheet
            discovery().check_query(kind, query)
            discovery().check_body(kind, body)
        except Invalid as exc:
            raise ApiError(400, exc.message, exc.violations()) from None
        with self._lock:
            state = self._spreadsheets.get(key)
            if state is None:
                raise ApiError(404, "Requested entity was not found.")
            if not state.allowed:
                raise ApiError(403, "The caller does not have permission")
            answer = ENDPOINTS[kind](state, range_text, query, body)
            if kind in recalc.CHANGES:
                state.changed_at = state.clock()
            return answer

"""A local Google Sheets API v4 emulator, spoken to by the real gspread client over real HTTP.

It keeps spreadsheets in memory and answers the endpoints gspread 6.2.1 calls:

- ``GET  /v4/spreadsheets/{id}`` (metadata),
- ``GET|PUT /v4/spreadsheets/{id}/values/{range}``, ``POST …/values/{range}:append|:clear``,
- ``GET  /v4/spreadsheets/{id}/values:batchGet``, ``POST …/values:batchUpdate|:batchClear``,
- ``POST /v4/spreadsheets/{id}:batchUpdate`` (addSheet, updateSheetProperties, setDataValidation,
  addProtectedRange, updateProtectedRange, deleteProtectedRange, repeatCell, appendDimension,
  deleteSheet).

Protected ranges come back in Google's wire format, as gspread's recorded exchanges show it
(`tests/cassettes/WorksheetTest.test_add_protected_range_*.json` in gspread's repository) and as
the API reference defines `ProtectedRange`: fields holding their default value are omitted (a
`sheetId` of 0, `warningOnly: false`), `requestingUserCanEdit` is true, and `editors.users` lists
the requested accounts plus the two Google always keeps, the requesting account (here
`SERVICE_ACCOUNT`) and the spreadsheet's owner; the `addProtectedRange` reply shows
`"editors": {}` when no user was requested. The metadata ``fields`` mask is applied
(``sheets(properties(sheetId,title),protectedRanges)``…).

Fidelity points that matter to the register: responses trim trailing empty cells and rows,
``USER_ENTERED`` input turns ``0612345678`` into the number 612345678 and ``=1+1`` into 2 (unless
the cell is formatted as TEXT), ``RAW`` input stores strings as is, ``null`` values in written
ranges leave cells unchanged, writes outside the grid are refused, ``batchUpdate`` is atomic, and
errors use Google's JSON shape. The number/date parsing follows a French-locale sheet, crudely.

Faults can be injected from Python (thread-safe): ``fail_next``, ``drop_next``, ``delay_next`` and
a seeded random mode ``faults``. Every request is counted by kind in ``requests`` (served),
``faulted`` (answered by an injected fault, not applied) and ``delayed`` (applied, answered late).
"""

from __future__ import annotations

import ast
import contextlib
import json
import operator
import random
import re
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

import gspread
import requests

from support.emulators.formulas import Context, FormulaError, evaluate
from support.emulators.sheets_schema import Invalid, discovery

PARIS = ZoneInfo("Europe/Paris")
GOOGLE_ORIGINS = ("https://sheets.googleapis.com", "https://www.googleapis.com")

STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
DEFAULT_MESSAGES = {
    429: (
        "Quota exceeded for quota metric 'Requests' and limit 'Requests per minute per user' "
        "of service 'sheets.googleapis.com'."
    ),
    500: "Internal error encountered.",
    502: "Bad gateway.",
    503: "The service is currently unavailable.",
    504: "The request timed out.",
}

DEFAULT_ROWS = 1000
DEFAULT_COLUMNS = 26
SERVICE_ACCOUNT = "alerte-message@cma-lozere-48.iam.gserviceaccount.com"
OWNER = "cma.lozere.registre@gmail.com"


class ApiError(Exception):
    """An error answered in Google's JSON shape (with `google.rpc.BadRequest` field violations
    when a field is to blame, as Google does)."""

    def __init__(self, code: int, message: str,
                 violations: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.violations = violations or []

    def payload(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "status": STATUS_NAMES.get(self.code, "UNKNOWN"),
        }
        if self.violations:
            error["details"] = [{"@type": "type.googleapis.com/google.rpc.BadRequest",
                                 "fieldViolations": self.violations}]
        return {"error": error}


# --- cells ------------------------------------------------------------------------------------


@dataclass(slots=True)
class Cell:
    """A non-string cell: number, boolean, date serial or formula result."""

    value: Any
    formatted: str
    formula: str | None = None
    dynamic: bool = False  # evaluated when read (functions, references): see `_resolve`


def _format_number(value: float | int) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return format(value, ".15g").replace(".", ",")


def _number_cell(value: float | int | bool) -> Cell:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    return Cell(value, _format_number(value))


_NUMBER_RE = re.compile(r"^[+-]?(\d+(,\d*)?|,\d+)([eE][+-]?\d+)?$")
_DATE_RE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_EPOCH = datetime(1899, 12, 30)
_OPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}


def _arithmetic(node: ast.AST) -> float:
    if isinstance(node, ast.Expression):
        return _arithmetic(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _arithmetic(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_arithmetic(node.left), _arithmetic(node.right))
    raise ValueError("not arithmetic")


def _formula(text: str) -> Cell:
    expression = text[1:].replace("^", "**").replace(",", ".")
    try:
        result = _arithmetic(ast.parse(expression, mode="eval"))
    except (SyntaxError, ValueError, ZeroDivisionError, OverflowError):
        return Cell(None, "", text, dynamic=True)
    cell = _number_cell(result)
    cell.formula = text
    return cell


def user_entered(text: str) -> str | Cell:
    """Parse a value as a French-locale Google Sheet would when a user types it."""
    if text.startswith("'"):
        return text[1:]
    stripped = text.strip()
    if stripped.startswith("=") and len(stripped) > 1:
        return _formula(stripped)
    if _NUMBER_RE.match(stripped):
        number = float(stripped.replace(",", "."))
        return _number_cell(int(number) if number.is_integer() and abs(number) < 1e15 else number)
    if stripped.upper() in ("TRUE", "FALSE", "VRAI", "FAUX"):
        value = stripped.upper() in ("TRUE", "VRAI")
        return Cell(value, "TRUE" if value else "FALSE")
    match = _DATE_RE.match(stripped)
    if match:
        day, month, year, hour, minute, second = match.groups()
        try:
            moment = datetime(
                int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
            )
        except ValueError:
            return text
        serial = (moment - _EPOCH).total_seconds() / 86400
        shown = moment.strftime("%d/%m/%Y %H:%M:%S" if hour else "%d/%m/%Y")
        return Cell(int(serial) if serial.is_integer() else serial, shown)
    return text


def _entered(value: dict[str, Any]) -> Any:
    """An `ExtendedValue` (`userEnteredValue` of updateCells) as a stored cell."""
    if "formulaValue" in value:
        return user_entered(str(value["formulaValue"]))
    if "numberValue" in value:
        return _number_cell(value["numberValue"])
    if "boolValue" in value:
        return Cell(bool(value["boolValue"]), "TRUE" if value["boolValue"] else "FALSE")
    return str(value.get("stringValue", ""))


def _covers(grid: dict[str, Any], row: int, col: int) -> bool:
    """Whether a `GridRange` holds the 0-based cell (row, col)."""
    r1, c1 = grid.get("endRowIndex"), grid.get("endColumnIndex")
    return (int(grid.get("startRowIndex", 0)) <= row and (r1 is None or row < int(r1))
            and int(grid.get("startColumnIndex", 0)) <= col and (c1 is None or col < int(c1)))


_CHANGES = frozenset({"batch_update", "values_batch_update", "values_batch_clear",
                      "values_append", "values_clear", "values_update"})


def _is_empty(cell: Any) -> bool:
    return cell is None or cell == ""


def _render(cell: Any, option: str) -> Any:
    if isinstance(cell, Cell):
        if option == "FORMATTED_VALUE":
            return cell.formatted
        if option == "FORMULA" and cell.formula is not None:
            return cell.formula
        return cell.value
    return "" if cell is None else cell


# --- A1 notation ------------------------------------------------------------------------------


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _column_index(letters: str) -> int:
    value = 0
    for ch in letters.upper():
        value = value * 26 + ord(ch) - 64
    return value - 1


def sheet_prefix(title: str) -> str:
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", title) and not re.fullmatch(
        r"[A-Za-z]{1,3}\d+", title
    ):
        return title
    return "'" + title.replace("'", "''") + "'"


_A1_PART = re.compile(r"^([A-Za-z]{0,3})(\d{0,7})$")


@dataclass(slots=True)
class GridRef:
    """A parsed range, 0-based; ``None`` ends are unbounded. ``single`` for one-cell ranges."""

    sheet: SheetState
    r0: int
    r1: int | None
    c0: int
    c1: int | None
    single: bool = False

    def clipped(self) -> tuple[int, int, int, int]:
        sheet = self.sheet
        r1 = sheet.row_count if self.r1 is None else min(self.r1, sheet.row_count)
        c1 = sheet.column_count if self.c1 is None else min(self.c1, sheet.column_count)
        return self.r0, max(r1, self.r0), self.c0, max(c1, self.c0)

    def a1(self) -> str:
        r0, r1, c0, c1 = self.clipped()
        return a1_range(self.sheet.title, r0, max(r1, r0 + 1), c0, max(c1, c0 + 1))


def a1_range(title: str, r0: int, r1: int, c0: int, c1: int) -> str:
    start = f"{column_letter(c0)}{r0 + 1}"
    end = f"{column_letter(c1 - 1)}{r1}"
    body = start if (r1 - r0, c1 - c0) == (1, 1) else f"{start}:{end}"
    return f"{sheet_prefix(title)}!{body}"


# --- spreadsheet state ------------------------------------------------------------------------


@dataclass
class SheetState:
    sheet_id: int
    title: str
    index: int
    rows: list[list[Any]] = field(default_factory=list)
    row_count: int = DEFAULT_ROWS
    column_count: int = DEFAULT_COLUMNS
    frozen_rows: int = 0
    protected_ranges: list[dict[str, Any]] = field(default_factory=list)
    validations: list[dict[str, Any]] = field(default_factory=list)
    formats: list[dict[str, Any]] = field(default_factory=list)
    text_ranges: list[tuple[int, int | None, int, int | None]] = field(default_factory=list)
    conditional_rules: list[dict[str, Any]] = field(default_factory=list)

    def properties(self) -> dict[str, Any]:
        grid: dict[str, Any] = {"rowCount": self.row_count, "columnCount": self.column_count}
        if self.frozen_rows:
            grid["frozenRowCount"] = self.frozen_rows
        return {
            "sheetId": self.sheet_id,
            "title": self.title,
            "index": self.index,
            "sheetType": "GRID",
            "gridProperties": grid,
        }

    def is_text(self, row: int, col: int) -> bool:
        for r0, r1, c0, c1 in self.text_ranges:
            if r0 <= row and (r1 is None or row < r1) and c0 <= col and (c1 is None or col < c1):
                return True
        return False

    def copy(self) -> SheetState:
        return SheetState(
            self.sheet_id, self.title, self.index, self.rows, self.row_count, self.column_count,
            self.frozen_rows, list(self.protected_ranges), list(self.validations),
            list(self.formats), list(self.text_ranges), list(self.conditional_rules),
        )


@dataclass
class SpreadsheetState:
    key: str
    title: str
    sheets: list[SheetState] = field(default_factory=list)
    batch_requests: list[dict[str, Any]] = field(default_factory=list)
    allowed: bool = True
    next_protected_id: int = 1
    owner: str = OWNER
    auto_recalc: str = "ON_CHANGE"
    time_zone: str = "Europe/Paris"
    changed_at: datetime | None = None  # wall time (spreadsheet zone) of the last change

    def by_title(self, title: str) -> SheetState | None:
        """Like Google: titles are unique whatever their case, and ranges name them in any case
        (an exact match first)."""
        for sheet in self.sheets:
            if sheet.title == title:
                return sheet
        folded = title.casefold()
        for sheet in self.sheets:
            if sheet.title.casefold() == folded:
                return sheet
        return None

    def by_id(self, sheet_id: int) -> SheetState | None:
        for sheet in self.sheets:
            if sheet.sheet_id == sheet_id:
                return sheet
        return None

    def metadata(self) -> dict[str, Any]:
        sheets = []
        for sheet in sorted(self.sheets, key=lambda s: s.index):
            entry: dict[str, Any] = {"properties": sheet.properties()}
            if sheet.protected_ranges:
                entry["protectedRanges"] = [
                    wire_protected_range(p, self.owner) for p in sheet.protected_ranges
                ]
            sheets.append(entry)
        return {
            "spreadsheetId": self.key,
            "properties": {
                "title": self.title,
                "locale": "fr_FR",
                "autoRecalc": self.auto_recalc,
                "timeZone": self.time_zone,
            },
            "sheets": sheets,
            "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{self.key}/edit",
        }

    def parse_range(self, text: str) -> GridRef:
        failure = ApiError(400, f"Unable to parse range: {text}")
        sheet: SheetState | None
        a1: str | None
        if text.startswith("'"):
            end = 1
            name = []
            while True:
                quote = text.find("'", end)
                if quote < 0:
                    raise failure
                name.append(text[end:quote])
                if text[quote + 1 : quote + 2] == "'":
                    name.append("'")
                    end = quote + 2
                    continue
                break
            sheet = self.by_title("".join(name))
            rest = text[quote + 1 :]
            if rest and not rest.startswith("!"):
                raise failure
            a1 = rest[1:] if rest else None
        elif "!" in text:
            title, _, a1 = text.rpartition("!")
            sheet = self.by_title(title)
        elif self.by_title(text) is not None:
            sheet, a1 = self.by_title(text), None
        else:
            sheet = min(self.sheets, key=lambda s: s.index) if self.sheets else None
            a1 = text
        if sheet is None:
            raise failure
        if not a1:
            return GridRef(sheet, 0, None, 0, None)
        start, _, end = a1.partition(":")
        m_start, m_end = _A1_PART.match(start), _A1_PART.match(end) if end else None
        if not m_start or (end and not m_end) or not start:
            raise failure
        c_start, r_start = m_start.groups()
        r0 = int(r_start) - 1 if r_start else 0
        c0 = _column_index(c_start) if c_start else 0
        if r0 < 0:
            raise failure
        if not end:
            if not (c_start and r_start):
                raise failure
            return GridRef(sheet, r0, r0 + 1, c0, c0 + 1, single=True)
        assert m_end is not None
        c_end, r_end = m_end.groups()
        if not (c_end or r_end):
            raise failure
        r1 = int(r_end) if r_end else None
        c1 = _column_index(c_end) + 1 if c_end else None
        if (r1 is not None and r1 <= r0) or (c1 is not None and c1 <= c0):
            raise failure
        return GridRef(sheet, r0, r1, c0, c1)


def _trimmed(rows: Iterable[list[Any]]) -> list[list[Any]]:
    result: list[list[Any]] = []
    for row in rows:
        end = len(row)
        while end and _is_empty(row[end - 1]):
            end -= 1
        result.append(row[:end])
    while result and not result[-1]:
        result.pop()
    return result


def _transpose(rows: list[list[Any]]) -> list[list[Any]]:
    width = max((len(r) for r in rows), default=0)
    return [[row[i] if i < len(row) else None for row in rows] for i in range(width)]


# --- the emulator -----------------------------------------------------------------------------


@dataclass(slots=True)
class _Fault:
    action: str  # "status" | "drop" | "delay"
    status: int = 0
    message: str = ""
    seconds: float = 0.0
    kinds: frozenset[str] | None = None


class SheetsEmulator:
    """In-memory Google Sheets API v4 on 127.0.0.1, for tests and benchmarks."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._spreadsheets: dict[str, SpreadsheetState] = {}
        self._faults: deque[_Fault] = deque()
        self._edits: list[list[Any]] = []  # [action, kinds or None, requests to let by]
        self._rng: random.Random | None = None
        self._rates = (0.0, 0.0, 0.0)
        self.requests: Counter[str] = Counter()
        self.faulted: Counter[str] = Counter()
        self.delayed: Counter[str] = Counter()
        self.log: list[dict[str, Any]] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""
        # Wall time in the spreadsheets' zone (Europe/Paris), for NOW(); tests may replace it.
        self.clock: Callable[[], datetime] = lambda: datetime.now(PARIS).replace(tzinfo=None)

    # lifecycle

    def start(self) -> SheetsEmulator:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.block_on_close = False
        server.emulator = self  # type: ignore[attr-defined]
        server.handle_error = lambda request, address: None  # type: ignore[method-assign]
        self._server = server
        host, port = server.server_address[:2]
        self.base_url = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
            name="sheets-emulator",
        )
        self._thread.start()
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
        tabs = {"Feuille 1": []} if tabs is None else tabs
        state = SpreadsheetState(key, title or f"Registre {key[:6]}", owner=owner)
        for index, (name, rows) in enumerate(tabs.items()):
            stored = [list(row) for row in rows]
            width = max((len(r) for r in stored), default=0)
            state.sheets.append(
                SheetState(
                    sheet_id=index * 1000 + 7 if index else 0,
                    title=name,
                    index=index,
                    rows=stored,
                    row_count=max(DEFAULT_ROWS, len(stored)),
                    column_count=max(DEFAULT_COLUMNS, width),
                )
            )
        with self._lock:
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
            return _trimmed([
                [_render(self._resolve(state, sheet, c), render) for c in row]
                for row in sheet.rows
            ])

    def conditional_format(self, key: str, tab: str, row: int, col: int) -> dict[str, Any] | None:
        """The format a conditional rule gives the cell at (row, col), 1-based, now: the first
        rule covering it whose custom formula is true, as Google applies them; None if none."""
        with self._lock:
            state = self._spreadsheets[key]
            sheet = self.sheet(key, tab)
            for rule in sheet.conditional_rules:
                if not any(_covers(grid, row - 1, col - 1) for grid in rule.get("ranges", [])):
                    continue
                boolean = rule.get("booleanRule", {})
                condition = boolean.get("condition", {})
                if condition.get("type") != "CUSTOM_FORMULA":
                    continue
                formula = condition.get("values", [{}])[0].get("userEnteredValue", "")
                try:
                    value = evaluate(formula, self._context(state, sheet))
                except FormulaError:
                    continue
                if value is True or (not isinstance(value, str) and value):
                    return dict(boolean.get("format", {}))
            return None

    # formulas

    def _now(self, state: SpreadsheetState) -> datetime:
        """NOW() as the spreadsheet's recalculation setting lets it move: on each change only
        (ON_CHANGE), or also every minute or hour."""
        now = self.clock()
        if state.auto_recalc == "MINUTE":
            return now.replace(second=0, microsecond=0)
        if state.auto_recalc == "HOUR":
            return now.replace(minute=0, second=0, microsecond=0)
        if state.changed_at is None:
            state.changed_at = now
        return state.changed_at

    def _context(self, state: SpreadsheetState, sheet: SheetState, depth: int = 0) -> Context:
        def target(name: str | None) -> SheetState:
            found = sheet if name is None else state.by_title(name)
            if found is None:
                raise FormulaError("#REF!")
            return found

        def cell(name: str | None, row: int, col: int) -> Any:
            other = target(name)
            value = other.rows[row][col] if row < len(other.rows) and col < len(
                other.rows[row]) else None
            if depth > 20:
                raise FormulaError("#REF!")
            value = self._resolve(state, other, value, depth + 1)
            if isinstance(value, Cell):
                if isinstance(value.value, str) and value.value.startswith("#"):
                    raise FormulaError(value.value)
                return value.value
            return value

        return Context(cell=cell, height=lambda name: len(target(name).rows),
                       now=self._now(state))

    def _resolve(self, state: SpreadsheetState, sheet: SheetState, cell: Any,
                 depth: int = 0) -> Any:
        """A formula cell with its value computed now; any other cell as it is."""
        if not isinstance(cell, Cell) or not cell.dynamic or cell.formula is None:
            return cell
        try:
            value = evaluate(cell.formula, self._context(state, sheet, depth))
        except FormulaError as error:
            return Cell(error.code, error.code, cell.formula)
        if isinstance(value, str):
            return Cell(value, value, cell.formula)
        if isinstance(value, bool):
            return Cell(value, "TRUE" if value else "FALSE", cell.formula)
        result = _number_cell(value)
        result.formula = cell.formula
        return result

    def set_values(self, key: str, tab: str, rows: Sequence[Sequence[Any]], *, start_row: int = 1,
                   start_col: int = 1) -> None:
        """Write cells as a member of staff would (strings stored as typed, no parsing)."""
        with self._lock:
            sheet = self.sheet(key, tab)
            for i, row in enumerate(rows):
                for j, value in enumerate(row):
                    self._store(sheet, start_row - 1 + i, start_col - 1 + j, value)

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
        with self._lock:
            self._edits.append([action, frozenset(kinds) if kinds else None, skip])

    def _run_edits(self, kind: str) -> None:
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

    def _column(self, sheet: SheetState, column: str | int) -> int:
        """0-based index of a header name (row 1) or of a 1-based column number."""
        if isinstance(column, int):
            return column - 1
        return [str(v) for v in (sheet.rows[0] if sheet.rows else [])].index(column)

    def sort_rows(self, key: str, tab: str, column: str | int, *, reverse: bool = False) -> None:
        """Sort the rows below the header by one column, as « Trier la feuille de A à Z »."""
        with self._lock:
            sheet = self.sheet(key, tab)
            index = self._column(sheet, column)
            body = [r for r in sheet.rows[1:] if any(not _is_empty(v) for v in r)]
            blanks = len(sheet.rows) - 1 - len(body)

            def value(row: list[Any]) -> str:
                cell = row[index] if index < len(row) else ""
                return str(_render(cell, "FORMATTED_VALUE"))

            body.sort(key=value, reverse=reverse)
            sheet.rows[1:] = body + [[] for _ in range(blanks)]

    def insert_rows(self, key: str, tab: str, before: int, count: int = 1,
                    values: Sequence[Sequence[Any]] = ()) -> None:
        """Insert `count` rows above sheet row `before` (1-based), filled with `values`."""
        with self._lock:
            sheet = self.sheet(key, tab)
            while len(sheet.rows) < before - 1:
                sheet.rows.append([])
            new = [list(values[i]) if i < len(values) else [] for i in range(count)]
            sheet.rows[before - 1:before - 1] = new
            sheet.row_count += count

    def delete_rows(self, key: str, tab: str, row: int, count: int = 1) -> None:
        """Delete `count` sheet rows from row `row` (1-based); the rows below move up."""
        with self._lock:
            sheet = self.sheet(key, tab)
            del sheet.rows[row - 1:row - 1 + count]
            sheet.row_count -= count

    def insert_columns(self, key: str, tab: str, before: int, count: int = 1,
                       headers: Sequence[str] = ()) -> None:
        """Insert `count` columns left of column `before` (1-based), with these headers."""
        with self._lock:
            sheet = self.sheet(key, tab)
            for number, row in enumerate(sheet.rows):
                while len(row) < before - 1:
                    row.append("")
                cells = list(headers) + [""] * (count - len(headers)) if number == 0 else (
                    [""] * count)
                row[before - 1:before - 1] = cells
            sheet.column_count += count

    def move_column(self, key: str, tab: str, column: str | int, before: int) -> None:
        """Move one column (by header or 1-based number) left of column `before` (1-based, in
        the sheet as it was), as dragging a column header does."""
        with self._lock:
            sheet = self.sheet(key, tab)
            index = self._column(sheet, column)
            width = max(len(r) for r in sheet.rows) if sheet.rows else 0
            target = before - 1 if before - 1 < index else before - 2
            for row in sheet.rows:
                row.extend([""] * (width - len(row)))
                cell = row.pop(index)
                row.insert(target, cell)

    # faults

    def fail_next(self, n: int = 1, status: int = 429, message: str | None = None, *,
                  kinds: Iterable[str] | None = None) -> None:
        """Answer the next ``n`` requests (of ``kinds`` if given) with an error, unapplied."""
        text = message or DEFAULT_MESSAGES.get(status, "Injected error.")
        self._queue(n, _Fault("status", status=status, message=text,
                              kinds=frozenset(kinds) if kinds else None))

    def drop_next(self, n: int = 1, *, kinds: Iterable[str] | None = None) -> None:
        """Close the socket of the next ``n`` requests without answering (nothing applied)."""
        self._queue(n, _Fault("drop", kinds=frozenset(kinds) if kinds else None))

    def delay_next(self, n: int, seconds: float, *, kinds: Iterable[str] | None = None) -> None:
        """Apply the next ``n`` requests, then wait ``seconds`` before answering."""
        self._queue(n, _Fault("delay", seconds=seconds, kinds=frozenset(kinds) if kinds else None))

    def faults(self, rate_429: float = 0.0, rate_5xx: float = 0.0, rate_drop: float = 0.0,
               seed: int | None = 0) -> None:
        """Random faults on requests not already covered by a queued fault; all 0 disables."""
        with self._lock:
            self._rates = (rate_429, rate_5xx, rate_drop)
            self._rng = random.Random(seed) if any(self._rates) else None

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._rng = None
            self._rates = (0.0, 0.0, 0.0)

    def _queue(self, n: int, fault: _Fault) -> None:
        with self._lock:
            self._faults.extend([fault] * n)

    def _take_fault(self, kind: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.kinds is None or kind in fault.kinds:
                    self._faults.remove(fault)
                    return fault
            if self._rng is not None:
                draw = self._rng.random()
                r429, r5xx, rdrop = self._rates
                if draw < r429:
                    return _Fault("status", 429, DEFAULT_MESSAGES[429])
                if draw < r429 + r5xx:
                    status = self._rng.choice((500, 503))
                    return _Fault("status", status, DEFAULT_MESSAGES[status])
                if draw < r429 + r5xx + rdrop:
                    return _Fault("drop")
        return None

    # accounting

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    def reset_counts(self) -> None:
        with self._lock:
            self.requests.clear()
            self.faulted.clear()
            self.delayed.clear()
            self.log.clear()

    # request handling (called from handler threads)

    def route(self, method: str, path: str) -> tuple[str, str, str | None]:
        """Return (kind, spreadsheet key, range or None) for a request path."""
        match = re.match(r"^/v4/spreadsheets/([^/:]+)(.*)$", path)
        if not match:
            raise ApiError(404, f"Method not found: {method} {path}")
        key, rest = match.group(1), match.group(2)
        table = {
            ("GET", ""): "get_metadata",
            ("POST", ":batchUpdate"): "batch_update",
            ("GET", "/values:batchGet"): "values_batch_get",
            ("POST", "/values:batchUpdate"): "values_batch_update",
            ("POST", "/values:batchClear"): "values_batch_clear",
        }
        if (method, rest) in table:
            return table[(method, rest)], key, None
        if rest.startswith("/values/"):
            encoded = rest[len("/values/") :]
            for suffix, kind in ((":append", "values_append"), (":clear", "values_clear")):
                if method == "POST" and encoded.endswith(suffix):
                    return kind, key, unquote(encoded[: -len(suffix)])
            if method == "GET":
                return "values_get", key, unquote(encoded)
            if method == "PUT":
                return "values_update", key, unquote(encoded)
        raise ApiError(404, f"Method not found: {method} {path}")

    def handle(self, kind: str, key: str, range_text: str | None,
               query: dict[str, list[str]], body: Any) -> dict[str, Any]:
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
            handler = getattr(self, f"_do_{kind}")
            answer = handler(state, range_text, query, body)
            if kind in _CHANGES:
                state.changed_at = self.clock()
            return answer

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

    # endpoint implementations (lock held)

    @staticmethod
    def _param(query: dict[str, list[str]], name: str, default: str) -> str:
        values = query.get(name)
        return values[-1] if values else default

    def _do_get_metadata(self, state, range_text, query, body) -> dict[str, Any]:
        mask = self._param(query, "fields", "")
        return apply_fields(state.metadata(), mask) if mask else state.metadata()

    def _read(self, state: SpreadsheetState, text: str, render: str, major: str) -> dict[str, Any]:
        ref = state.parse_range(text)
        r0, r1, c0, c1 = ref.clipped()
        rows = [
            [_render(self._resolve(state, ref.sheet, cell), render) for cell in row[c0:c1]]
            for row in ref.sheet.rows[r0:r1]
        ]
        values = _trimmed(rows)
        if major == "COLUMNS":
            values = _trimmed(
                [[("" if v is None else v) for v in col] for col in _transpose(values)]
            )
        result: dict[str, Any] = {"range": ref.a1(), "majorDimension": major}
        if values:
            result["values"] = values
        return result

    def _do_values_get(self, state, range_text, query, body) -> dict[str, Any]:
        render = self._param(query, "valueRenderOption", "FORMATTED_VALUE")
        major = self._param(query, "majorDimension", "ROWS")
        return self._read(state, range_text, render, major)

    def _do_values_batch_get(self, state, range_text, query, body) -> dict[str, Any]:
        render = self._param(query, "valueRenderOption", "FORMATTED_VALUE")
        major = self._param(query, "majorDimension", "ROWS")
        ranges = query.get("ranges", [])
        return {
            "spreadsheetId": state.key,
            "valueRanges": [self._read(state, text, render, major) for text in ranges],
        }

    def _store(self, sheet: SheetState, row: int, col: int, value: Any) -> None:
        rows = sheet.rows
        if row >= len(rows):
            rows.extend([] for _ in range(row + 1 - len(rows)))
        target = rows[row]
        if col >= len(target):
            target.extend([""] * (col + 1 - len(target)))
        target[col] = value

    @staticmethod
    def _convert(sheet: SheetState, row: int, col: int, value: Any, option: str) -> Any:
        if isinstance(value, bool):
            return Cell(value, "TRUE" if value else "FALSE")
        if isinstance(value, int | float):
            return _number_cell(value)
        text = str(value)
        if option == "USER_ENTERED" and text and not sheet.is_text(row, col):
            return user_entered(text)
        return text

    def _input_option(self, value: str | None) -> str:
        if value not in ("RAW", "USER_ENTERED"):
            if not value:
                raise ApiError(400, "'valueInputOption' is required but not specified")
            raise ApiError(400, f"Invalid value at 'value_input_option' ({value})")
        return value

    def _plan_write(
        self, state: SpreadsheetState, text: str, values: list[list[Any]], major: str, *,
        append_row: int | None = None,
    ) -> tuple[GridRef, list[list[Any]]]:
        ref = state.parse_range(text)
        if not isinstance(values, list) or not all(isinstance(r, list) for r in values):
            raise ApiError(400, "Invalid values: expected a list of lists")
        if major == "COLUMNS":
            values = _transpose(values)
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

    def _apply_write(self, ref: GridRef, values: list[list[Any]], option: str) -> dict[str, Any]:
        sheet = ref.sheet
        cells = 0
        for i, row in enumerate(values):
            for j, value in enumerate(row):
                if value is None:
                    continue
                r, c = ref.r0 + i, ref.c0 + j
                self._store(sheet, r, c, self._convert(sheet, r, c, value, option))
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

    def _do_values_update(self, state, range_text, query, body) -> dict[str, Any]:
        option = self._input_option(self._param(query, "valueInputOption", ""))
        body = body or {}
        ref, values = self._plan_write(
            state, range_text, body.get("values", []), body.get("majorDimension", "ROWS")
        )
        return {"spreadsheetId": state.key, **self._apply_write(ref, values, option)}

    def _do_values_batch_update(self, state, range_text, query, body) -> dict[str, Any]:
        body = body or {}
        option = self._input_option(body.get("valueInputOption"))
        plans = [
            self._plan_write(
                state, item.get("range", ""), item.get("values", []),
                item.get("majorDimension", "ROWS"),
            )
            for item in body.get("data", [])
        ]
        responses = [
            {"spreadsheetId": state.key, **self._apply_write(ref, values, option)}
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

    def _do_values_append(self, state, range_text, query, body) -> dict[str, Any]:
        """Google's table detection: the table is the first block of consecutive non-empty rows
        at or below the range's first row (within its columns); values go on the row after it,
        or on the range's first row when there is no table. A blank row inside the data ends
        the table, so an append from A1 lands in the first blank row."""
        option = self._input_option(self._param(query, "valueInputOption", ""))
        insert = self._param(query, "insertDataOption", "OVERWRITE")
        ref = state.parse_range(range_text)
        sheet = ref.sheet
        c0, c1 = ref.c0, (None if ref.single else ref.c1)

        def filled(index: int) -> bool:
            row = sheet.rows[index] if index < len(sheet.rows) else []
            span = row[c0:c1] if c1 is not None else row[c0:]
            return any(not _is_empty(v) for v in span)

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
            values = _transpose(values)
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
        updates = self._apply_write(write_ref, values, option)
        result: dict[str, Any] = {"spreadsheetId": state.key, "updates": {
            "spreadsheetId": state.key, **updates}}
        if top is not None:
            first = sheet.rows[top]
            end = c0
            while end < len(first) and not _is_empty(first[end]):
                end += 1
            result["tableRange"] = a1_range(sheet.title, top, start, c0, max(end, c0 + 1))
        return result

    def _clear(self, ref: GridRef) -> str:
        r0, r1, c0, c1 = ref.clipped()
        for row in ref.sheet.rows[r0:r1]:
            for c in range(c0, min(c1, len(row))):
                row[c] = ""
        return ref.a1()

    def _do_values_clear(self, state, range_text, query, body) -> dict[str, Any]:
        return {"spreadsheetId": state.key,
                "clearedRange": self._clear(state.parse_range(range_text))}

    def _do_values_batch_clear(self, state, range_text, query, body) -> dict[str, Any]:
        refs = [state.parse_range(text) for text in (body or {}).get("ranges", [])]
        return {"spreadsheetId": state.key, "clearedRanges": [self._clear(r) for r in refs]}

    def _do_batch_update(self, state, range_text, query, body) -> dict[str, Any]:
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
            method = getattr(self, f"_req_{name}", None)
            if method is None:  # a valid request the emulator does not play (yet)
                raise ApiError(501, f"Invalid requests[{number}].{name}: not implemented by "
                                    "the emulator.")
            replies.append(method(work, number, payload))
        state.sheets = work.sheets
        state.next_protected_id = work.next_protected_id
        state.auto_recalc, state.time_zone = work.auto_recalc, work.time_zone
        state.batch_requests.extend(requests_)
        return {"spreadsheetId": state.key, "replies": replies}

    @staticmethod
    def _grid_sheet(work: SpreadsheetState, number: int, name: str,
                    grid: dict[str, Any]) -> SheetState:
        sheet = work.by_id(int(grid.get("sheetId", 0)))
        if sheet is None:
            raise ApiError(400, f"Invalid requests[{number}].{name}: No grid with id: "
                                f"{grid.get('sheetId', 0)}")
        return sheet

    def _req_addSheet(self, work: SpreadsheetState, number: int, payload: dict) -> dict:
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

    def _req_deleteSheet(self, work: SpreadsheetState, number: int, payload: dict) -> dict:
        sheet = self._grid_sheet(work, number, "deleteSheet", payload)
        work.sheets.remove(sheet)
        return {}

    def _req_updateSheetProperties(self, work: SpreadsheetState, number: int,
                                   payload: dict) -> dict:
        props = payload.get("properties", {})
        sheet = self._grid_sheet(work, number, "updateSheetProperties", props)
        fields = payload.get("fields", "")
        if not fields:
            raise ApiError(400, f"Invalid requests[{number}].updateSheetProperties: "
                                "You must specify at least one field to update.")
        self._mask(number, "updateSheetProperties", "SheetProperties", fields)
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

    def _req_appendDimension(self, work: SpreadsheetState, number: int, payload: dict) -> dict:
        sheet = self._grid_sheet(work, number, "appendDimension", payload)
        length = int(payload.get("length", 0))
        if length <= 0:
            raise ApiError(400, f"Invalid requests[{number}].appendDimension: length must be > 0")
        if payload.get("dimension") == "COLUMNS":
            sheet.column_count += length
        else:
            sheet.row_count += length
        return {}

    def _req_updateSpreadsheetProperties(self, work: SpreadsheetState, number: int,
                                         payload: dict) -> dict:
        fields = payload.get("fields", "")
        if not fields:
            raise ApiError(400, f"Invalid requests[{number}].updateSpreadsheetProperties: "
                                "You must specify at least one field to update.")
        self._mask(number, "updateSpreadsheetProperties", "SpreadsheetProperties", fields)
        props = payload.get("properties", {})
        for path in (f.strip() for f in fields.split(",")):
            if path in ("*", "autoRecalc"):
                work.auto_recalc = props.get("autoRecalc", "ON_CHANGE")
            if path in ("*", "timeZone") and props.get("timeZone"):
                work.time_zone = props["timeZone"]
        return {}

    def _req_addConditionalFormatRule(self, work: SpreadsheetState, number: int,
                                      payload: dict) -> dict:
        rule = dict(payload.get("rule", {}))
        ranges = rule.get("ranges", [])
        if not ranges:
            raise ApiError(400, f"Invalid requests[{number}].addConditionalFormatRule: "
                                "At least one range must be specified.")
        sheet = self._grid_sheet(work, number, "addConditionalFormatRule", ranges[0])
        index = int(payload.get("index", 0))
        sheet.conditional_rules.insert(min(index, len(sheet.conditional_rules)), rule)
        return {}

    def _req_deleteConditionalFormatRule(self, work: SpreadsheetState, number: int,
                                         payload: dict) -> dict:
        sheet = self._grid_sheet(work, number, "deleteConditionalFormatRule", payload)
        index = int(payload.get("index", 0))
        if index >= len(sheet.conditional_rules):
            raise ApiError(400, f"Invalid requests[{number}].deleteConditionalFormatRule: "
                                f"No conditional format on sheet {sheet.sheet_id} at index "
                                f"{index}")
        del sheet.conditional_rules[index]
        return {}

    def _req_updateCells(self, work: SpreadsheetState, number: int, payload: dict) -> dict:
        """Values only (`userEnteredValue`); formats in the same request are not played."""
        if not payload.get("fields"):
            raise ApiError(400, f"Invalid requests[{number}].updateCells: "
                                "At least one field must be specified.")
        self._mask(number, "updateCells", "CellData", payload["fields"])
        start = payload.get("start")
        if start is None:
            raise ApiError(400, f"Invalid requests[{number}].updateCells: start is required "
                                "(ranges are not played by the emulator).")
        sheet = self._grid_sheet(work, number, "updateCells", start)
        sheet.rows = [list(r) for r in sheet.rows]  # the copy shares rows with the live state
        r0, c0 = int(start.get("rowIndex", 0)), int(start.get("columnIndex", 0))
        for i, row in enumerate(payload.get("rows", [])):
            for j, data in enumerate(row.get("values", [])):
                entered = data.get("userEnteredValue")
                if entered is None:
                    continue
                if r0 + i >= sheet.row_count or c0 + j >= sheet.column_count:
                    raise ApiError(400, f"Invalid requests[{number}].updateCells: range "
                                        "exceeds grid limits.")
                self._store(sheet, r0 + i, c0 + j, _entered(entered))
        return {}

    def _req_setDataValidation(self, work: SpreadsheetState, number: int, payload: dict) -> dict:
        sheet = self._grid_sheet(work, number, "setDataValidation", payload.get("range", {}))
        sheet.validations.append(payload)
        return {}

    def _req_repeatCell(self, work: SpreadsheetState, number: int, payload: dict) -> dict:
        grid = payload.get("range", {})
        sheet = self._grid_sheet(work, number, "repeatCell", grid)
        if not payload.get("fields"):
            raise ApiError(400, f"Invalid requests[{number}].repeatCell: "
                                "At least one field must be specified.")
        self._mask(number, "repeatCell", "CellData", payload["fields"])
        sheet.formats.append(payload)
        fmt = payload.get("cell", {}).get("userEnteredFormat", {}).get("numberFormat", {})
        if fmt.get("type") == "TEXT":
            sheet.text_ranges.append((
                int(grid.get("startRowIndex", 0)), grid.get("endRowIndex"),
                int(grid.get("startColumnIndex", 0)), grid.get("endColumnIndex"),
            ))
        return {}

    @staticmethod
    def _mask(number: int, name: str, schema: str, fields: str) -> None:
        try:
            discovery().check_mask(schema, fields)
        except Invalid as exc:
            raise ApiError(400, f"Invalid requests[{number}].{name}: {exc.message}") from None

    def _req_addProtectedRange(self, work: SpreadsheetState, number: int, payload: dict) -> dict:
        protected = dict(payload.get("protectedRange", {}))
        if protected.get("warningOnly") and protected.get("editors"):
            raise ApiError(400, f"Invalid requests[{number}].addProtectedRange: Editors are not "
                                "supported with warning_only protection.")
        sheet = self._grid_sheet(work, number, "addProtectedRange", protected.get("range", {}))
        _check_editors(number, "addProtectedRange", protected)
        protected["protectedRangeId"] = work.next_protected_id
        work.next_protected_id += 1
        protected.setdefault("warningOnly", False)
        requested = list((protected.get("editors") or {}).get("users") or [])
        protected["editors"] = _kept_editors(protected.get("editors"), work.owner)
        sheet.protected_ranges.append(protected)
        reply = wire_protected_range(protected, work.owner)
        if not requested:
            reply["editors"] = {}  # as Google answers (the metadata then lists the accounts)
        return {"addProtectedRange": {"protectedRange": reply}}

    def _find_protected(self, work: SpreadsheetState, number: int, name: str,
                        range_id: Any) -> tuple[SheetState, int]:
        for sheet in work.sheets:
            for index, item in enumerate(sheet.protected_ranges):
                if item.get("protectedRangeId") == range_id:
                    return sheet, index
        raise ApiError(400, f"Invalid requests[{number}].{name}: No protected range with id: "
                            f"{range_id}")

    def _req_updateProtectedRange(self, work: SpreadsheetState, number: int,
                                  payload: dict) -> dict:
        changes = payload.get("protectedRange", {})
        fields = payload.get("fields", "")
        if not fields:
            raise ApiError(400, f"Invalid requests[{number}].updateProtectedRange: "
                                "You must specify at least one field to update.")
        sheet, index = self._find_protected(work, number, "updateProtectedRange",
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
        _check_editors(number, "updateProtectedRange", item)
        item["editors"] = _kept_editors(item.get("editors"), work.owner)
        sheet.protected_ranges[index] = item
        return {}

    def _req_deleteProtectedRange(self, work: SpreadsheetState, number: int,
                                  payload: dict) -> dict:
        sheet, index = self._find_protected(work, number, "deleteProtectedRange",
                                            payload.get("protectedRangeId"))
        del sheet.protected_ranges[index]
        return {}


def _check_editors(number: int, name: str, protected: dict[str, Any]) -> None:
    if protected.get("warningOnly") and (protected.get("editors") or {}).get("users"):
        raise ApiError(400, f"Invalid requests[{number}].{name}: Editors are not supported with "
                            "warningOnly protection.")


def _kept_editors(editors: Any, owner: str) -> dict[str, Any]:
    """Requested editors plus the two accounts Google always keeps (requester, owner)."""
    editors = dict(editors or {})
    users = [str(u) for u in editors.get("users") or []]
    for account in (SERVICE_ACCOUNT, owner):
        if account not in users:
            users.append(account)
    editors["users"] = users
    return editors


def wire_protected_range(item: dict[str, Any], owner: str) -> dict[str, Any]:
    """A stored protected range as the API returns it (default values omitted)."""
    out: dict[str, Any] = {"protectedRangeId": item["protectedRangeId"]}
    grid = {k: v for k, v in (item.get("range") or {}).items() if v not in (0, None)}
    if "namedRangeId" in item:
        out["namedRangeId"] = item["namedRangeId"]
    else:
        out["range"] = grid
    if item.get("description"):
        out["description"] = item["description"]
    if item.get("warningOnly"):
        out["warningOnly"] = True
    out["requestingUserCanEdit"] = True
    editors = _kept_editors(item.get("editors"), owner)
    wire: dict[str, Any] = {"users": editors["users"]}
    if editors.get("groups"):
        wire["groups"] = list(editors["groups"])
    if editors.get("domainUsersCanEdit"):
        wire["domainUsersCanEdit"] = True
    out["editors"] = wire
    return out


_MASK_FIELD = re.compile(r"\s*([A-Za-z_*][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*")


def _parse_mask(text: str) -> dict[str, Any]:
    """A partial-response field mask (``a,b.c,d(e,f(g))``) as a tree; None leaves keep all."""
    tree: dict[str, Any] = {}
    position = 0

    def fields(into: dict[str, Any]) -> None:
        nonlocal position
        while position < len(text):
            match = _MASK_FIELD.match(text, position)
            if match is None:
                raise ApiError(400, f"Invalid field selection {text}")
            position = match.end()
            node: dict[str, Any] | None = into
            names = match.group(1).split(".")
            for name in names[:-1]:
                if node is None:
                    break
                # A field already selected whole stays so.
                node = None if name in node and node[name] is None else node.setdefault(name, {})
            if node is None:
                node = {}  # a detached tree: the field is already selected whole
            last = names[-1]
            if position < len(text) and text[position] == "(":
                position += 1
                sub = node.setdefault(last, {})
                if sub is None:
                    sub = node[last] = {}
                fields(sub)
                if position >= len(text) or text[position] != ")":
                    raise ApiError(400, f"Invalid field selection {text}")
                position += 1
            else:
                node[last] = None
            if position < len(text) and text[position] == ",":
                position += 1
                continue
            return

    fields(tree)
    if position != len(text):
        raise ApiError(400, f"Invalid field selection {text}")
    return tree


def _select(value: Any, tree: dict[str, Any] | None) -> Any:
    if tree is None or "*" in tree:
        return value
    if isinstance(value, list):
        return [_select(v, tree) for v in value]
    if not isinstance(value, dict):
        return value
    return {k: _select(value[k], sub) for k, sub in tree.items() if k in value}


def apply_fields(payload: dict[str, Any], mask: str) -> dict[str, Any]:
    """Keep only what the ``fields`` mask asks for, as Google's partial responses do."""
    return _select(payload, _parse_mask(mask))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: avoid a 40 ms stall
    server_version = "SheetsEmulator/1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def _dispatch(self, method: str) -> None:
        emulator: SheetsEmulator = self.server.emulator  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        query = parse_qs(split.query, keep_blank_values=True)
        try:
            kind, key, range_text = emulator.route(method, split.path)
        except ApiError as exc:
            emulator.record(method, split.path, "unknown", exc.code, None)
            self._send(exc.code, exc.payload())
            return
        emulator._run_edits(kind)
        fault = emulator._take_fault(kind)
        if fault is not None and fault.action == "drop":
            emulator.record(method, split.path, kind, 0, "drop")
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault is not None and fault.action == "status":
            emulator.record(method, split.path, kind, fault.status, "status")
            self._send(fault.status, ApiError(fault.status, fault.message).payload())
            return
        try:
            body = json.loads(raw) if raw else None
            status, payload = 200, emulator.handle(kind, key, range_text, query, body)
        except json.JSONDecodeError:
            exc = ApiError(400, "Invalid JSON payload received.")
            status, payload = exc.code, exc.payload()
        except ApiError as exc:
            status, payload = exc.code, exc.payload()
        emulator.record(method, split.path, kind, status, fault.action if fault else None)
        if fault is not None and fault.action == "delay":
            time.sleep(fault.seconds)
        self._send(status, payload)


class RedirectSession(requests.Session):
    """A requests session that sends Google API calls to a local emulator instead."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")

    def request(self, method: str | bytes, url: str | bytes, *args: Any,
                **kwargs: Any) -> requests.Response:
        text = url.decode() if isinstance(url, bytes) else url
        for origin in GOOGLE_ORIGINS:
            if text.startswith(origin):
                text = self.base_url + text[len(origin) :]
                break
        return super().request(method, text, *args, **kwargs)


def local_client(base_url: str) -> gspread.Client:
    """A real gspread client (plain HTTPClient, no auth) talking to the emulator."""
    return gspread.Client(auth=None, session=RedirectSession(base_url))  # type: ignore[arg-type]

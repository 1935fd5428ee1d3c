"""A local Google Sheets API v4 emulator, spoken to by the real gspread client over real HTTP.

It keeps spreadsheets in memory and answers the endpoints gspread 6.2.1 calls:

- ``GET  /v4/spreadsheets/{id}`` (metadata),
- ``GET|PUT /v4/spreadsheets/{id}/values/{range}``, ``POST …/values/{range}:append|:clear``,
- ``GET  /v4/spreadsheets/{id}/values:batchGet``, ``POST …/values:batchUpdate|:batchClear``,
- ``POST /v4/spreadsheets/{id}:batchUpdate`` (addSheet, updateSheetProperties, setDataValidation,
  addProtectedRange, updateProtectedRange, deleteProtectedRange, repeatCell, appendDimension,
  deleteSheet).

Protected ranges come back in Google's wire format (see `protected`), and the metadata
``fields`` mask is applied (see `fields`).

Fidelity points that matter to the register: responses trim trailing empty cells and rows,
``USER_ENTERED`` input turns ``0612345678`` into the number 612345678 and ``=1+1`` into 2 (unless
the cell is formatted as TEXT), ``RAW`` input stores strings as is, ``null`` values in written
ranges leave cells unchanged, writes outside the grid are refused, ``batchUpdate`` is atomic, and
errors use Google's JSON shape. The number/date parsing follows a French-locale sheet, crudely.

Faults can be injected from Python (thread-safe): ``fail_next``, ``drop_next``, ``delay_next`` and
a seeded random mode ``faults``. Every request is counted by kind in ``requests`` (served),
``faulted`` (answered by an injected fault, not applied) and ``delayed`` (applied, answered late).

One module a responsibility: `errors` (Google's error shape), `cells` (typed values, formulas,
rendering), `a1` (A1 notation and range parsing), `state` (spreadsheets and sheets),
`protected` (protected ranges), `fields` (partial-response masks), `values` and `batch` (the
endpoints), `routes` (paths to endpoints), `staff` (hand edits between requests), `faults`
(injected faults), `server` (HTTP), `emulator` (`SheetsEmulator`), `client` (gspread to the
emulator).
"""

from support.emulators.sheets.a1 import GridRef, a1_range, column_letter, parse_range, sheet_prefix
from support.emulators.sheets.cells import Cell, user_entered
from support.emulators.sheets.client import local_client
from support.emulators.sheets.emulator import SheetsEmulator
from support.emulators.sheets.errors import DEFAULT_MESSAGES, STATUS_NAMES, ApiError
from support.emulators.sheets.fields import apply_fields
from support.emulators.sheets.protected import SERVICE_ACCOUNT, wire_protected_range
from support.emulators.sheets.state import (
    DEFAULT_COLUMNS,
    DEFAULT_ROWS,
    OWNER,
    SheetState,
    SpreadsheetState,
)

__all__ = [
    "DEFAULT_COLUMNS",
    "DEFAULT_MESSAGES",
    "DEFAULT_ROWS",
    "OWNER",
    "SERVICE_ACCOUNT",
    "STATUS_NAMES",
    "ApiError",
    "Cell",
    "GridRef",
    "SheetState",
    "SheetsEmulator",
    "SpreadsheetState",
    "a1_range",
    "apply_fields",
    "column_letter",
    "local_client",
    "parse_range",
    "sheet_prefix",
    "user_entered",
    "wire_protected_range",
]

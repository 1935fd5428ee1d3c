"""The spreadsheets an emulator keeps: sheets with their cells, grid size and settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from support.emulators.sheets.protected import wire_protected_range

DEFAULT_ROWS = 1000
DEFAULT_COLUMNS = 26
OWNER = "cma.lozere.registre@gmail.com"
PARIS = ZoneInfo("Europe/Paris")


def paris_wall_time() -> datetime:
    return datetime.now(PARIS).replace(tzinfo=None)


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
    # Drive sharing (`permissions.list`): None means the owner and the service account as an
    # editor; `drive_enabled=False` answers as when the Drive API is off in the project.
    permissions: list[dict[str, Any]] | None = None
    drive_enabled: bool = True
    auto_recalc: str = "ON_CHANGE"
    time_zone: str = "Europe/Paris"
    changed_at: datetime | None = None  # wall time of the last change, for NOW() ON_CHANGE
    clock: Callable[[], datetime] = paris_wall_time  # wall time in the spreadsheet's zone

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


def new_spreadsheet(key: str, tabs: dict[str, list[list[Any]]] | None = None, *,
                    title: str = "", owner: str = OWNER) -> SpreadsheetState:
    """A spreadsheet holding `tabs` (name → rows); ``None`` gives one empty « Feuille 1 »."""
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
    return state


def store(sheet: SheetState, row: int, col: int, value: Any) -> None:
    """Put `value` in one cell (0-based), growing the stored rows as needed."""
    rows = sheet.rows
    if row >= len(rows):
        rows.extend([] for _ in range(row + 1 - len(rows)))
    target = rows[row]
    if col >= len(target):
        target.extend([""] * (col + 1 - len(target)))
    target[col] = value

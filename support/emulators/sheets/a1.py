"""A1 notation: column letters, range text as Google writes it, and the parsing of a range
(``'Feuille 1'!A2:C``, ``Tab``, ``B3``) into a grid reference on one sheet."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from support.emulators.sheets.errors import ApiError

if TYPE_CHECKING:
    from support.emulators.sheets.state import SheetState, SpreadsheetState


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_index(letters: str) -> int:
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


def parse_range(spreadsheet: SpreadsheetState, text: str) -> GridRef:
    """The range `text` of a request, on one of `spreadsheet`'s sheets (400 when unparsable)."""
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
        sheet = spreadsheet.by_title("".join(name))
        rest = text[quote + 1 :]
        if rest and not rest.startswith("!"):
            raise failure
        a1 = rest[1:] if rest else None
    elif "!" in text:
        title, _, a1 = text.rpartition("!")
        sheet = spreadsheet.by_title(title)
    elif spreadsheet.by_title(text) is not None:
        sheet, a1 = spreadsheet.by_title(text), None
    else:
        sheet = min(spreadsheet.sheets, key=lambda s: s.index) if spreadsheet.sheets else None
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
    c0 = column_index(c_start) if c_start else 0
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
    c1 = column_index(c_end) + 1 if c_end else None
    if (r1 is not None and r1 <= r0) or (c1 is not None and c1 <= c0):
        raise failure
    return GridRef(sheet, r0, r1, c0, c1)

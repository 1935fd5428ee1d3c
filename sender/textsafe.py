"""Neutralise text that a spreadsheet would run as a formula (OWASP CSV injection)."""

from __future__ import annotations

import re

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Plain numbers and phone numbers (`+33612345678`, `-12,5`) are data, not formulas.
_PLAIN_NUMBER = re.compile(r"^[+-]?[\d][\d\s.,()/]*$")
_MAX_CELL = 5000


def is_formula(text: str) -> bool:
    """True when a spreadsheet could interpret the value as a formula."""
    return bool(text) and text.startswith(_FORMULA_STARTS) and not _PLAIN_NUMBER.match(text)


def neutralise(text: str | None, *, max_length: int = _MAX_CELL) -> str:
    """Return `text` safe to store in a cell: control characters removed, formula start quoted.

    A leading apostrophe is what spreadsheet users themselves type to force text, so staff see
    the value unchanged. The function is idempotent.
    """
    if not text:
        return ""
    cleaned = "".join(ch for ch in text if ch in "\t\r\n" or (ch >= " " and ch != "\x7f"))
    cleaned = cleaned[:max_length]
    if is_formula(cleaned):
        return "'" + cleaned
    return cleaned


def restore(text: str) -> str:
    """Undo `neutralise` for display outside a spreadsheet (a message, a page): `'=x` → `=x`."""
    if text.startswith("'") and is_formula(text[1:]):
        return text[1:]
    return text

"""Neutralise text that a spreadsheet would run as a formula (OWASP CSV injection)."""

from __future__ import annotations

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_MAX_CELL = 5000


def neutralise(text: str | None, *, max_length: int = _MAX_CELL) -> str:
    """Return `text` safe to store in a cell: control characters removed, formula start quoted.

    A leading apostrophe is what spreadsheet users themselves type to force text, so staff see
    the value unchanged. Phone numbers typed as `+33…` are stored in E.164 columns by the sender,
    so the raw column may safely carry the apostrophe.
    """
    if not text:
        return ""
    cleaned = "".join(ch for ch in text if ch in "\t\r\n" or (ch >= " " and ch != "\x7f"))
    cleaned = cleaned[:max_length]
    if cleaned.startswith(_FORMULA_STARTS):
        return "'" + cleaned
    return cleaned


def is_formula(text: str) -> bool:
    """True when a cell value would be interpreted as a formula by a spreadsheet."""
    return bool(text) and text.startswith(_FORMULA_STARTS)

"""Row identifiers (`id` columns): plain integers, assigned after the highest one in use."""

from __future__ import annotations

from collections.abc import Iterable

MAX_ID_DIGITS = 15


def numeric_id(value: object) -> int | None:
    """The integer an id cell holds, or None. `isdigit` alone accepts « ² » or 5,000-digit
    values, on which `int` raises: only short ASCII digit strings count."""
    text = str(value if value is not None else "").strip()
    if text.isascii() and text.isdigit() and len(text) <= MAX_ID_DIGITS:
        return int(text)
    return None


def next_free_id(values: Iterable[object]) -> int:
    """One more than the highest numeric id among `values` (1 when there is none)."""
    return max((n for v in values if (n := numeric_id(v)) is not None), default=0) + 1

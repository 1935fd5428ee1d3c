"""Row identifiers (`id` columns): plain integers, assigned after the highest one in use."""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping

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


def fill_ids(records: Iterable[MutableMapping[str, str]], next_id: int) -> None:
    """Give every record with an empty `id` the next free integer, counting from `next_id`; an
    id already given moves the count past it."""
    for record in records:
        value = record["id"].strip()
        if value:
            given = numeric_id(value)
            if given is not None:
                next_id = max(next_id, given + 1)
        else:
            record["id"] = str(next_id)
            next_id += 1

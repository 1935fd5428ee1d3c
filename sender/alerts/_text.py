"""Small text helpers shared by the alert modules: cleaning cell values, folding for comparison."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta

from sender.dates import PARIS
from sender.textsafe import restore

# Control characters and bidirectional overrides are dropped (tab and carriage return become
# spaces, new lines are kept).
_CONTROL = {code: None for code in (*range(32), 127) if code not in (9, 10, 13)}
_CONTROL.update({9: " ", 13: " "})
_CONTROL.update(dict.fromkeys((*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0xFEFF)))
_NON_WORD = re.compile(r"[^a-z0-9]+")
_SPACES = re.compile(r"\s+")


def clean(value: object) -> str:
    """A cell value as text: None → "", numbers → their text, control characters removed, and
    the apostrophe the register adds before formula-like text taken off again."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():  # the usual case: keep the very same string (no copy per cell)
        return restore(text.strip())
    return restore(text.translate(_CONTROL).strip())


def one_line(text: str) -> str:
    """Collapse every run of whitespace (new lines included) into one space."""
    return _SPACES.sub(" ", text).strip()


def fold(text: str) -> str:
    """Comparison key: no accents, no case, punctuation and spaces collapsed to one space."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    bare = bare.replace("œ", "oe").replace("æ", "ae")
    return _NON_WORD.sub(" ", bare).strip()


def singular_words(key: str) -> str:
    """`fold` output with a crude French singular: trailing s/x dropped from words of 4+ letters."""
    return " ".join(
        word[:-1] if len(word) > 3 and word[-1] in "sx" else word for word in key.split()
    )


def quote(text: str, limit: int = 60) -> str:
    """Echo a user value inside « » in a message, shortened so a huge cell stays readable."""
    shown = one_line(text)
    if len(shown) > limit:
        shown = shown[: limit - 1].rstrip() + "…"
    return f"« {shown} »"


def french_list(items: list[str], last: str = "ou") -> str:
    """`a, b ou c`."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def day(moment: datetime) -> str:
    """`29/11/2026`, Europe/Paris."""
    return moment.astimezone(PARIS).strftime("%d/%m/%Y")


def hour(moment: datetime) -> str:
    """`14h05`, Europe/Paris."""
    return moment.astimezone(PARIS).strftime("%Hh%M")


def day_and_hour(moment: datetime) -> str:
    """`29/11/2026 à 14h05`, Europe/Paris."""
    return f"{day(moment)} à {hour(moment)}"


def duration(delta: timedelta) -> str:
    """`50 min`, `1 h 15`, `50 h` — how long, for a French reader (rounded down to the minute)."""
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours >= 48:
        return f"{hours} h"
    return f"{hours} h {rest:02d}"

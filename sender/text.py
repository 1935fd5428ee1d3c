"""Text helpers shared by the whole package: cell values, French wording, phone masking.

Every helper of this kind lives here once: accent folding, plurals, numbers and durations in
French, dates as officers read them, phone masking for logs, formula neutralising for cells.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta

from sender.dates import PARIS

# -- cells ------------------------------------------------------------------------------------

# Spreadsheets also read the full-width and small forms of = + - @ (typed with an Asian input
# method or pasted) as the start of a formula.
_FORMULA_STARTS = (
    "=", "+", "-", "@", "\t", "\r",
    "\uff1d", "\ufe66",  # ＝ ﹦
    "\uff0b", "\ufe62",  # ＋ ﹢
    "\uff0d", "\ufe63",  # － ﹣
    "\uff20", "\ufe6b",  # ＠ ﹫
)
# Plain numbers and phone numbers (`+33612345678`, `-12,5`) are data, not formulas.
_PLAIN_NUMBER = re.compile(r"^[+-]?[\d][\d\s.,()/]*$")
MAX_CELL = 5000  # characters kept in one cell

# Control characters and bidirectional overrides are dropped (tab and carriage return become
# spaces, new lines are kept).
_CONTROL = {code: None for code in (*range(32), 127) if code not in (9, 10, 13)}
_CONTROL.update({9: " ", 13: " "})
_CONTROL.update(dict.fromkeys((*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0xFEFF)))


def is_formula(text: str) -> bool:
    """True when a spreadsheet could interpret the value as a formula."""
    return bool(text) and text.startswith(_FORMULA_STARTS) and not _PLAIN_NUMBER.match(text)


def neutralise(text: str | None, *, max_length: int = MAX_CELL) -> str:
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


def cell_text(value: object) -> str:
    """A cell value as text: None → "", numbers → their text, control characters removed, and
    the apostrophe the register adds before formula-like text taken off again."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():  # the usual case: keep the very same string (no copy per cell)
        return restore(text.strip())
    return restore(text.translate(_CONTROL).strip())


# -- comparing --------------------------------------------------------------------------------

_NON_WORD = re.compile(r"[^a-z0-9]+")
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Comparison key: no accents, no case, punctuation and spaces collapsed to one space."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    bare = bare.replace("œ", "oe").replace("æ", "ae")
    return _NON_WORD.sub(" ", bare).strip()


_TRUTHY = frozenset(
    {"oui", "o", "vrai", "x", "1", "true", "yes", "y", "actif", "active", "ok"}
)
_TICKS = frozenset("✓✔☑✅")


def is_truthy(text: str | None) -> bool:
    """The `actif` column: oui, OUI, vrai, x, 1, true, ✓ … count as yes."""
    value = cell_text(text)
    return value in _TICKS or fold(value) in _TRUTHY


def singular_words(key: str) -> str:
    """`fold` output with a crude French singular: trailing s/x dropped from words of 4+ letters."""
    return " ".join(
        word[:-1] if len(word) > 3 and word[-1] in "sx" else word for word in key.split()
    )


# -- French wording ---------------------------------------------------------------------------


def one_line(text: str) -> str:
    """Collapse every run of whitespace (new lines included) into one space."""
    return _SPACES.sub(" ", text).strip()


def sentence(text: str) -> str:
    """`text` starting with a capital letter, as a sentence does (`des faux billets…` → `Des
    faux billets…`); the rest is kept as typed."""
    stripped = text.lstrip()
    if stripped[:1].islower():
        return stripped[0].upper() + stripped[1:]
    return stripped


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


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """`1 destinataire`, `3 destinataires` (French: 0 and 1 take the singular).

    Without `plural_form`, every word gets an « s » (`non envoyé` → `non envoyés` is wrong, so
    pass the plural explicitly for phrases).
    """
    if count <= 1:
        return f"{count} {singular}"
    word = plural_form or " ".join(part + "s" for part in singular.split(" "))
    return f"{count} {word}"


def thousands(number: int) -> str:
    """`12 345`, with the non-breaking space French typography puts between groups."""
    return f"{number:,}".replace(",", "\u00a0")


def seconds(value: float) -> str:
    """`12,3 s`, `2 min 05 s`."""
    if value < 60:
        return f"{value:.1f} s".replace(".", ",")
    minutes, rest = divmod(round(value), 60)
    return f"{minutes} min {rest:02d} s"


def duration(delta: timedelta) -> str:
    """`50 min`, `1 h 15`, `50 h` — how long, for a French reader (rounded down to the minute)."""
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours >= 48:
        return f"{hours} h"
    return f"{hours} h {rest:02d}"


def day(moment: date) -> str:
    """`29/11/2026`: a datetime in Europe/Paris, a plain date as it is."""
    if isinstance(moment, datetime):
        moment = moment.astimezone(PARIS)
    return moment.strftime("%d/%m/%Y")


def hour(moment: datetime) -> str:
    """`14h05`, Europe/Paris."""
    return moment.astimezone(PARIS).strftime("%Hh%M")


def day_and_hour(moment: datetime) -> str:
    """`29/11/2026 à 14h05`, Europe/Paris."""
    return f"{day(moment)} à {hour(moment)}"


def written_day_and_hour(moment: datetime) -> str:
    """`29/11/2026 à 14 h 05` (non-breaking spaces), Europe/Paris: for pages and documents
    people read; messages keep `day_and_hour`, as a non-breaking space is not GSM-7."""
    local = moment.astimezone(PARIS)
    return f"{day(local)} à {local:%H}\u00a0h\u00a0{local:%M}"


MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)


def month(year: int, number: int) -> str:
    """`novembre 2026`."""
    return f"{MONTHS[number - 1]} {year}"


# -- phone numbers in logs --------------------------------------------------------------------

_NOT_DIGIT = re.compile(r"\D")
_PHONE_LIKE = re.compile(r"\+?\d[\d\s.\-/()]{6,}\d")


def mask_phone(number: str) -> str:
    """Mask a number for logs: `+33612345678` or `06 12 34 56 78` → `+33 6 •• •• •• 78`."""
    digits = _NOT_DIGIT.sub("", number or "")
    if len(digits) == 10 and digits.startswith("0"):  # French national spelling
        digits = "33" + digits[1:]
    if len(digits) < 4:
        return "•" * len(digits)
    if digits.startswith("33") and len(digits) == 11:
        return f"+33 {digits[2]} •• •• •• {digits[-2:]}"
    return f"+{digits[:2]} {'•' * (len(digits) - 4)} {digits[-2:]}"


def mask_numbers(text: str) -> str:
    """Mask anything that looks like a phone number in a text bound for logs or the register."""
    return _PHONE_LIKE.sub(lambda m: mask_phone(m.group(0)), text)

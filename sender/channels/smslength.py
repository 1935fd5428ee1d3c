"""What an alert SMS may be: its length in GSM-7 (160 characters, 153 per part) or UCS-2 (70, 67
per part), at most `MAX_ALERT_PARTS` parts, and never a STOP code (docs/architecture.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sender.text import plural

# Each part is billed and a long SMS reads badly on a phone: 4 parts are 612 GSM-7 characters or
# 268 UCS-2 ones, far more than an alert needs.
MAX_ALERT_PARTS = 4

# « STOP au 36173 », « STOP SMS 36111 », « stop : 36200 »: an opt-out short code, the mark of a
# marketing SMS (held at night and on Sundays).
_STOP_CODE = re.compile(r"\bSTOP\b[\s:]*(?:(?:au|à|sms)\b[\s:]*)*\+?\d{4,6}\b", re.IGNORECASE)

_GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = set("^{}\\[~]|€\f")

# Typographic apostrophes are not GSM-7: one ’ would make a whole SMS UCS-2 (70 characters per
# part instead of 160). An SMS gets the straight apostrophe, which reads the same.
_STRAIGHT_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'"})


@dataclass(frozen=True, slots=True)
class SmsSize:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int

    def describe(self) -> str:
        return f"{self.units} caractères {self.encoding}, {plural(self.segments, 'partie')}"


def sms_size(text: str) -> SmsSize:
    """Count the units and segments the network will bill for `text`."""
    if all(ch in _GSM7_BASIC or ch in _GSM7_EXTENDED for ch in text):
        units = sum(2 if ch in _GSM7_EXTENDED else 1 for ch in text)
        single, per_part, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, per_part, encoding = 70, 67, "UCS-2"
    if units == 0:
        return SmsSize(encoding, 0, 0)
    segments = 1 if units <= single else -(-units // per_part)
    return SmsSize(encoding, units, segments)


def straight_apostrophes(text: str) -> str:
    """`text` with its typographic apostrophes (’ and ‘) made straight ('), which GSM-7 has."""
    return text.translate(_STRAIGHT_APOSTROPHES)


def stop_code(text: str) -> str | None:
    """The STOP mention found in `text` (« STOP au 36173 »), or None."""
    match = _STOP_CODE.search(text)
    return match.group(0) if match else None

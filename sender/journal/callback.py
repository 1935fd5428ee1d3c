"""`biz_opaque_callback_data`: the string every WhatsApp message carries and every status webhook
of that message echoes, so that a status maps back to its alert and recipient even when
`recipient_id` is not a phone number.

Format: `am1:<reference>:<attempt>:<alert id>`. The reference is an HMAC of the recipient's
number with a key kept in the journal (never the number itself); the attempt is the journal
row's attempt counter, so a late status of an earlier copy is told apart from the current one.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

PREFIX = "am1"
MAX_LENGTH = 512  # Meta's limit for biz_opaque_callback_data
REFERENCE_LENGTH = 16  # hex digits: 64 bits, unique among any number of members


@dataclass(frozen=True, slots=True)
class Callback:
    alert_id: str
    reference: str
    attempt: int


def reference(key: bytes, numero: str) -> str:
    """The recipient's reference: an HMAC-SHA256 of the number, which does not reveal it."""
    digest = hmac.new(key, numero.encode("utf-8"), hashlib.sha256).hexdigest()
    return digest[:REFERENCE_LENGTH]


def encode(alert_id: str, ref: str, attempt: int) -> str | None:
    """The callback string, or None when the alert id is too long to fit."""
    text = f"{PREFIX}:{ref}:{attempt}:{alert_id}"
    return text if len(text) <= MAX_LENGTH else None


def decode(text: object) -> Callback | None:
    """The callback of one of our messages, or None (absent, foreign or damaged)."""
    if not isinstance(text, str):
        return None
    parts = text.split(":", 3)
    if len(parts) != 4 or parts[0] != PREFIX or not parts[2].isdigit() or not parts[3]:
        return None
    ref = parts[1]
    if len(ref) != REFERENCE_LENGTH or any(c not in "0123456789abcdef" for c in ref):
        return None
    return Callback(parts[3], ref, int(parts[2]))

"""Reverse confirmation: the short code a person sends from their phone to the network's number.

After a form request (sign-up or unsubscription), the page shows a click-to-chat link that
opens WhatsApp with « INSCRIPTION 48-7421 » (or « DESINSCRIPTION … ») already typed. The code
is a keyed digest of the request — its kind, its E.164 number and the second it was made —
so nothing but the row is stored, and a code:

- only works from the number it was made for: WhatsApp gives the webhook the sender's number,
  which Meta has verified, and the code is compared with the codes of that number's requests;
- expires with its request (the row's `horodatage` plus ALERTE_CONFIRMATION_JOURS);
- is 6 digits: guessing one needs the victim's phone anyway, and each number's messages are
  rate-limited before they are read.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime

from sender.consent.tokens import DESINSCRIPTION, INSCRIPTION
from sender.text import fold

DIGITS = 6
WORDS = {INSCRIPTION: "INSCRIPTION", DESINSCRIPTION: "DESINSCRIPTION"}
_KINDS_BY_WORD = {"inscription": INSCRIPTION, "desinscription": DESINSCRIPTION}
_MESSAGE = re.compile(r"^(inscription|desinscription)\s*((?:\d\s*){6})$")


def code_key(secret: bytes) -> bytes:
    """The key of the codes, derived from the link-signing secret: the Apps Script intake gets
    this one (it can make codes, never sign links)."""
    return hmac.new(secret, b"alerte-message/codes-whatsapp", hashlib.sha256).digest()


def request_code(secret: bytes, kind: str, numero: str, made_at: datetime) -> str:
    """The 6 digits of the request (`kind`, `numero` in E.164, made at `made_at`): the first
    8 bytes of HMAC-SHA256(code_key, « code-whatsapp|kind|numero|Unix seconds »), big-endian,
    modulo 10⁶ (apps-script/Code.gs computes the same)."""
    message = f"code-whatsapp|{kind}|{numero}|{int(made_at.timestamp())}".encode()
    digest = hmac.new(code_key(secret), message, hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 10**DIGITS:0{DIGITS}d}"


def shown(code: str) -> str:
    """`48-7421`: how the code is written for people."""
    return f"{code[:2]}-{code[2:]}"


def prefilled_text(kind: str, code: str) -> str:
    """The text the click-to-chat link types for the person: « INSCRIPTION 48-7421 »."""
    return f"{WORDS[kind]} {shown(code)}"


@dataclass(frozen=True, slots=True)
class CodeMessage:
    kind: str  # INSCRIPTION or DESINSCRIPTION
    code: str  # 6 digits


def read_code_message(text: str) -> CodeMessage | None:
    """« INSCRIPTION 48-7421 » (any case, accents, spaces or dashes) → its kind and code."""
    folded = fold(text)
    match = _MESSAGE.match(folded)
    if match is None:
        return None
    return CodeMessage(_KINDS_BY_WORD[match.group(1)], re.sub(r"\D", "", match.group(2)))


def is_code_like(text: str) -> bool:
    """A code message, or close to one (a word followed by digits): answered as a code."""
    folded = fold(text)
    return bool(re.match(r"^(inscription|desinscription)\s*\d", folded))

"""What following a confirmation link (or tapping the WhatsApp button) does: `confirm_token`.

The token is checked (signature, end of validity), then the request's row is found in the
register (`id` of the sign-up, or the digest of the unsubscription's `horodatage`, and always the
digest of its number) and its `confirme_le` cell is written, once: a second use of the same link
finds it filled and changes nothing. The sender turns the confirmation into `actif` (or applies
the unsubscription) at its next cycle.

The WhatsApp webhook passes each incoming message (`entry[].changes[].value.messages[]`) to
`confirm_button`: a tap on the template's quick-reply button arrives as `type: "button"` with
the token in `button.payload`, and counts only when it comes from the very number the message
was sent to (`from`).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from sender import schema
from sender.cleaning.phones import clean_phone
from sender.consent.tokens import (
    INSCRIPTION,
    Token,
    TokenExpired,
    TokenInvalid,
    number_digest,
    request_ref,
    verify,
)
from sender.dates import format_iso
from sender.register.base import CellChange, Register, Row

_LOCK = threading.Lock()  # two clicks on the same link in one process: one write


class Outcome(Enum):
    CONFIRMED = "confirmed"
    ALREADY = "already"  # the link was used before
    EXPIRED = "expired"
    INVALID = "invalid"  # not one of our tokens, or not from the number it was sent to
    UNKNOWN = "unknown"  # genuine, but the request is no longer in the register


@dataclass(frozen=True, slots=True)
class ConfirmResult:
    outcome: Outcome
    kind: str | None = None  # INSCRIPTION or DESINSCRIPTION when the token was genuine


def check_token(secret: bytes, text: str, now: datetime) -> ConfirmResult:
    """The token alone (no register access): INVALID, EXPIRED, or CONFIRMED meaning « may be
    confirmed » — what the page shown before the button needs."""
    try:
        token = verify(secret, text, now.timestamp())
    except TokenExpired as expired:
        return ConfirmResult(Outcome.EXPIRED, expired.token.kind)
    except TokenInvalid:
        return ConfirmResult(Outcome.INVALID)
    return ConfirmResult(Outcome.CONFIRMED, token.kind)


def confirm_token(
    register: Register,
    text: str,
    *,
    secret: bytes,
    now: datetime,
    from_number: str | None = None,
) -> ConfirmResult:
    """Confirm the request of token `text`; `from_number` (E.164, or WhatsApp's digits) is the
    phone that answered when the confirmation comes from the WhatsApp button. Raises
    RegisterError when the register cannot be read or written (nothing was confirmed)."""
    try:
        token = verify(secret, text, now.timestamp())
    except TokenExpired as expired:
        return ConfirmResult(Outcome.EXPIRED, expired.token.kind)
    except TokenInvalid:
        return ConfirmResult(Outcome.INVALID)
    if from_number is not None:
        digits = "".join(ch for ch in from_number if ch.isdigit())
        if not digits or number_digest(secret, "+" + digits) != token.number:
            return ConfirmResult(Outcome.INVALID, token.kind)
    tab = schema.INSCRIPTIONS if token.kind == INSCRIPTION else schema.DESINSCRIPTIONS
    with _LOCK:
        rows = [r for r in register.read([tab])[tab].rows if _matches(r, token, secret)]
        if not rows:
            return ConfirmResult(Outcome.UNKNOWN, token.kind)
        if any(r.get("confirme_le").strip() for r in rows):
            return ConfirmResult(Outcome.ALREADY, token.kind)
        stamp = format_iso(now)
        register.write([CellChange(tab, r.key, "confirme_le", stamp) for r in rows])
    return ConfirmResult(Outcome.CONFIRMED, token.kind)


def _matches(row: Row, token: Token, secret: bytes) -> bool:
    if token.kind == INSCRIPTION:
        if row.get("id").strip() != token.ref:
            return False
    elif request_ref(row.get("horodatage")) != token.ref:
        return False
    numero = clean_phone(row.get("telephone")).numero
    return numero is not None and number_digest(secret, numero) == token.number


def confirm_button(
    register: Register, message: Mapping[str, object], *, secret: bytes, now: datetime
) -> ConfirmResult | None:
    """The confirmation carried by an incoming WhatsApp message, or None when the message is
    not a quick-reply button tap with a payload (any other message is the webhook's business)."""
    if message.get("type") != "button":
        return None
    button = message.get("button")
    payload = button.get("payload") if isinstance(button, Mapping) else None
    if not isinstance(payload, str) or not payload:
        return None
    return confirm_token(
        register, payload, secret=secret, now=now, from_number=str(message.get("from") or "")
    )

"""What following a confirmation link (or tapping the WhatsApp button) does: `confirm_token`.

The token is checked (signature, end of validity), then the request's row is found in the
register (`id` of the sign-up, or the digest of the unsubscription's `horodatage`, and always the
digest of its number) and its `confirme_le` cell is written, once: a second use of the same link
finds it filled and changes nothing. The sender turns the confirmation into `actif` (or applies
the unsubscription) at its next cycle.

A tap on the WhatsApp template's quick-reply button arrives at the webhook as an incoming
message (`entry[].changes[].value.messages[]`) of `type: "button"` with the token in
`button.payload`; the webhook stores it (`delivery.incoming` classifies it) and the next cycle
passes the stored taps to `confirm_buttons` (`delivery.confirmations`), all in one read and one
write. A tap counts only when it comes from the very number the message was sent to (`from`).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from sender import schema
from sender.consent.requests import request_ref
from sender.consent.tokens import (
    INSCRIPTION,
    Token,
    TokenExpired,
    TokenInvalid,
    number_digest,
    verify,
)
from sender.dates import format_iso
from sender.domain.phones import from_whatsapp, parse_phone
from sender.register.base import Register
from sender.tables import CellChange, Row

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
    verified = _verified(secret, text, now, None)
    if isinstance(verified, ConfirmResult):
        return verified
    return ConfirmResult(Outcome.CONFIRMED, verified.kind)


def _verified(
    secret: bytes, text: str, now: datetime, from_number: str | None
) -> Token | ConfirmResult:
    """The token of `text`, or the result that ends its confirmation there (bad signature,
    expired, or answered from another number than the one it was sent to)."""
    try:
        token = verify(secret, text, now.timestamp())
    except TokenExpired as expired:
        return ConfirmResult(Outcome.EXPIRED, expired.token.kind)
    except TokenInvalid:
        return ConfirmResult(Outcome.INVALID)
    if from_number is not None:
        digits = "".join(ch for ch in from_number if ch.isdigit())
        if not digits or number_digest(secret, from_whatsapp(digits)) != token.number:
            return ConfirmResult(Outcome.INVALID, token.kind)
    return token


def _tab(token: Token) -> str:
    return schema.INSCRIPTIONS if token.kind == INSCRIPTION else schema.DESINSCRIPTIONS


def _confirm_all(
    register: Register,
    answers: Sequence[tuple[str, str | None]],
    *,
    secret: bytes,
    now: datetime,
) -> list[ConfirmResult]:
    """Confirm each (token text, answering number or None): one read of the tabs concerned and
    one write of every `confirme_le` filled, none when there is nothing to read or fill."""
    checked = [_verified(secret, text, now, number) for text, number in answers]
    tabs = sorted({_tab(c) for c in checked if isinstance(c, Token)})
    if not tabs:
        return [c for c in checked if isinstance(c, ConfirmResult)]
    results: list[ConfirmResult] = []
    stamp = format_iso(now)
    with _LOCK:
        tables = register.read(tabs)
        filled: set[tuple[str, int]] = set()
        changes: list[CellChange] = []
        for item in checked:
            if isinstance(item, ConfirmResult):
                results.append(item)
                continue
            tab = _tab(item)
            rows = [r for r in tables[tab].rows if _matches(r, item, secret)]
            if not rows:
                results.append(ConfirmResult(Outcome.UNKNOWN, item.kind))
            elif any(r.get("confirme_le").strip() or (tab, r.key) in filled for r in rows):
                results.append(ConfirmResult(Outcome.ALREADY, item.kind))
            else:
                filled.update((tab, r.key) for r in rows)
                changes += [CellChange(tab, r.key, "confirme_le", stamp) for r in rows]
                results.append(ConfirmResult(Outcome.CONFIRMED, item.kind))
        if changes:
            register.write(changes)
    return results


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
    return _confirm_all(register, [(text, from_number)], secret=secret, now=now)[0]


def _matches(row: Row, token: Token, secret: bytes) -> bool:
    if token.kind == INSCRIPTION:
        if row.get("id").strip() != token.ref:
            return False
    elif request_ref(row.get("horodatage")) != token.ref:
        return False
    numero = parse_phone(row.get("telephone")).numero
    return numero is not None and number_digest(secret, numero) == token.number


def button_answer(message: Mapping[str, object]) -> tuple[str, str] | None:
    """(token, answering number) of an incoming WhatsApp message that is a tap on a
    quick-reply button with a payload, else None."""
    if message.get("type") != "button":
        return None
    button = message.get("button")
    payload = button.get("payload") if isinstance(button, Mapping) else None
    if not isinstance(payload, str) or not payload:
        return None
    return payload, str(message.get("from") or "")


def confirm_buttons(
    register: Register,
    messages: Sequence[Mapping[str, object]],
    *,
    secret: bytes,
    now: datetime,
) -> list[ConfirmResult | None]:
    """The confirmation carried by each incoming WhatsApp message (None for a message that is
    not a button tap with a payload), with one read and one write of the register for all."""
    answers = [button_answer(m) for m in messages]
    done = iter(
        _confirm_all(register, [a for a in answers if a is not None], secret=secret, now=now)
    )
    return [None if a is None else next(done) for a in answers]


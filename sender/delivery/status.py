"""How a status webhook changes a journal row: pure rules, the same whatever the order.

Meta sends each status at least once and in no particular order (a `delivered` may follow a
`failed`, a `read` may come before its `delivered`). The row's `delivery` converges to the same
value for any order and any duplicates (docs/architecture.md, "Delivery statuses"):

- `accepted` < `sent` < `delivered` < `read`: the highest rank received wins;
- `failed` wins over `accepted` and `sent`, never over `delivered` or `read`: a later
  `delivered` or `read` proves the message arrived (a member with two phones…), so `failed`
  is final only while nothing proves otherwise.

Statuses are scoped by the copy they are about (the attempt in the callback string): a
positive status of any copy means the member has the alert; a `failed` status of an earlier
copy is ignored once a new copy was sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from sender.channels.base import Scope
from sender.channels.whatsapp import status_error
from sender.delivery.payload import StatusEvent
from sender.journal.states import FAILED, GAVE_UP, PENDING, SENT, UNCERTAIN

RANK = {"accepted": 0, "sent": 1, "delivered": 2, "read": 3}
_REACHED = frozenset({"delivered", "read"})


def merge(current: str | None, incoming: str) -> str:
    """The row's delivery after one more status (commutative, idempotent)."""
    if current is None:
        return incoming
    if incoming == "failed":
        return current if current in _REACHED else "failed"
    if current == "failed":
        return incoming if incoming in _REACHED else "failed"
    return incoming if RANK.get(incoming, -1) > RANK.get(current, -1) else current


@dataclass(frozen=True, slots=True)
class RowView:
    """What the rules need of a journal row."""

    state: str
    channel: str | None
    attempts: int
    delivery: str | None
    delivery_code: str | None
    message_id: str | None


@dataclass(frozen=True, slots=True)
class Change:
    delivery: str
    delivery_code: str | None
    state: str  # unchanged when the status does not settle the row
    message_id: str | None
    error_code: str | None = None
    error_text: str | None = None
    final: bool | None = None


_OPEN = frozenset({PENDING, UNCERTAIN, GAVE_UP, FAILED})


def apply(row: RowView, event: StatusEvent, attempt: int) -> Change | None:
    """The row after `event` (about copy `attempt`), or None when it changes nothing."""
    if event.status == "failed" and attempt < row.attempts:
        return None  # an earlier copy failed; a newer one was sent since
    delivery = merge(row.delivery, event.status)
    message_id = row.message_id or event.wamid
    on_whatsapp = row.channel in (None, "whatsapp")
    if delivery != "failed":
        state = SENT if on_whatsapp and row.state in _OPEN else row.state
        return Change(delivery, None, state, message_id)
    if event.status != "failed":  # a `sent` after a `failed`: nothing new
        return Change(delivery, row.delivery_code, row.state, message_id)
    code = str(event.error_code) if event.error_code is not None else None
    if not on_whatsapp or row.state not in _OPEN | {SENT}:
        return Change(delivery, code, row.state, message_id)
    error = status_error(event.error_code)
    if error.scope is Scope.RETRY:  # Meta could not send it now: send it again
        return Change(delivery, code, GAVE_UP, message_id, code, error.message, False)
    final = error.scope is Scope.RECIPIENT and error.final
    return Change(delivery, code, FAILED, message_id, code, error.message, final)

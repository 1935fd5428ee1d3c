"""What to do with one recipient of an alert, given its journal row: pure rules.

The rules that keep "never send twice" as close as the APIs allow (docs/architecture.md,
"Exactly once") live here, apart from the threads and the SQL:

- nothing recorded, `deferred`, `gave_up`: send;
- `sent`: reached, never sent again;
- `failed`: final when the refusal is about the member; a WhatsApp refusal that an SMS may get
  round (no WhatsApp, …) goes to the SMS fallback when there is one; a failure that may come from
  a setting (HTTP 404, code 100…) is sent again when the alert is put back to « à diffuser »;
- `uncertain` or `pending` (the answer was lost, or the process died during the send): the
  member may have the message. With status webhooks, wait `wait` seconds for its status (a
  status settles the row); once the wait is over, send again if the statuses of messages
  claimed with or after this one have arrived (the webhooks work and have caught up, and none
  came for this message: it never reached WhatsApp). The last messages of an alert have no
  later message: they are sent again after `LONG_WAIT` times the wait if some status arrived
  since they were sent (the webhooks work). Without webhooks (or if none arrive), send again
  only while the member has at most one possible copy: no member ever gets more than two.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from sender.journal.states import (
    DEFERRED,
    FAILED,
    GAVE_UP,
    PENDING,
    SENT,
    UNCERTAIN,
    JournalEntry,
)

MAX_COPIES_WITHOUT_STATUS = 2
LONG_WAIT = 3  # times the wait, for a lost answer no later message can vouch for


class Decision(Enum):
    SEND = "send"  # primary channel (or the quota's route)
    RESEND = "resend"  # again, on the channel of the lost attempt, after every fresh send
    SMS = "sms"  # SMS fallback after a WhatsApp refusal about the member
    REACHED = "reached"
    FAILED = "failed"
    WAIT = "wait"  # a status webhook may still come
    UNCONFIRMED = "unconfirmed"  # possibly reached, not sent again (copies limit)


@dataclass(frozen=True, slots=True)
class Rules:
    """What the decisions depend on besides the row."""

    now: float
    webhooks: bool = False  # status webhooks are configured
    wait: float = 120.0  # seconds to wait for the status of an uncertain send
    confirmed_claim_at: float | None = None  # latest claim time of a message with a status
    last_status_at: float | None = None  # when the latest status webhook was received
    sms_codes: frozenset[str] = frozenset()  # WhatsApp codes for the SMS fallback (empty: none)
    retry_failed: bool = False  # the alert was put back to « à diffuser »


def decide(entry: JournalEntry | None, rules: Rules) -> Decision:
    """The decision for one recipient (see the module docstring)."""
    if entry is None or entry.state in (DEFERRED, GAVE_UP):
        return Decision.SEND
    if entry.state == SENT:
        return Decision.REACHED
    if entry.state == FAILED:
        return _failed(entry, rules)
    if entry.state in (UNCERTAIN, PENDING):
        return _uncertain(entry, rules)
    return Decision.SEND


def _failed(entry: JournalEntry, rules: Rules) -> Decision:
    if entry.channel == "whatsapp" and (entry.error_code or "") in rules.sms_codes:
        return Decision.SMS
    if rules.retry_failed and not entry.final:
        return Decision.SEND
    return Decision.FAILED


def _uncertain(entry: JournalEntry, rules: Rules) -> Decision:
    if rules.webhooks and entry.channel == "whatsapp":
        age = rules.now - entry.updated_at
        if age < rules.wait:
            return Decision.WAIT
        claimed = entry.claimed_at if entry.claimed_at is not None else entry.updated_at
        # Claimed with or after it (one claim covers a batch sent within moments).
        if rules.confirmed_claim_at is not None and rules.confirmed_claim_at >= claimed:
            return Decision.RESEND
        alive = rules.last_status_at is not None and rules.last_status_at > claimed
        if alive and age < LONG_WAIT * rules.wait:
            return Decision.WAIT
        if alive:
            return Decision.RESEND
    if entry.possible_copies < MAX_COPIES_WITHOUT_STATUS:
        return Decision.RESEND
    return Decision.UNCONFIRMED

"""What the dispatch journal stores: row states, rows, send outcomes, summaries and errors.

States:
- `pending`   — claimed by a dispatcher, the send may be in flight (or was, before a crash: a
                copy may have left, so it counts as one possible copy, like `uncertain`);
- `uncertain` — the request left and its answer was lost: the member may have the message
                (`uncertain` counts such possible copies; see `decisions.py`);
- `sent`      — the channel accepted the message (final); `delivery` then follows the status
                webhooks: accepted → sent → delivered → read, or failed (see `delivery/`);
- `failed`    — failure for this recipient, with its code; `final` says whether it is about
                the member (never retried) or may come from a setting (sent again when the
                alert is put back to « à diffuser »);
- `gave_up`   — transient failure or interrupted batch: retried by the next dispatch;
- `deferred`  — held back by the daily limit: sent by a later dispatch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sender.errors import AlerteError

PENDING = "pending"
UNCERTAIN = "uncertain"
SENT = "sent"
FAILED = "failed"
GAVE_UP = "gave_up"
DEFERRED = "deferred"


class JournalError(AlerteError):
    """The dispatch journal cannot be used; nothing was sent on the strength of it."""


class JournalBusy(JournalError):
    """Another program holds the journal longer than the busy timeout: try again later."""

    retryable = True


class JournalCorrupt(JournalError):
    """The file is not a readable journal. It is left exactly as it was."""


class LeaseLost(JournalError):
    """This dispatcher no longer holds the alert's lease (expired and taken by another)."""


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One row. Times are Unix timestamps (seconds, UTC)."""

    alert_id: str
    numero: str
    channel: str | None
    state: str
    attempts: int
    message_id: str | None
    wa_id: str | None
    error_code: str | None
    error_text: str | None
    owner: str | None
    updated_at: float
    sent_at: float | None
    uncertain: int = 0  # sends whose answer was lost (possible copies)
    final: bool = True  # for `failed`: about the member, never sent again
    delivery: str | None = None  # accepted, sent, delivered, read or failed (status webhooks)
    delivery_code: str | None = None
    fallback: bool = False  # reached by the SMS fallback
    claimed_at: float | None = None  # when the latest send was claimed

    @property
    def possible_copies(self) -> int:
        """Copies the member may have received without us knowing (lost answers, crashes)."""
        return self.uncertain + (self.state == PENDING)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one send, to be recorded after it (see `Journal.record`)."""

    numero: str
    state: str  # SENT, FAILED, GAVE_UP, UNCERTAIN or PENDING
    channel: str
    message_id: str | None = None
    wa_id: str | None = None
    error_code: str | None = None
    error_text: str | None = None
    final: bool = True  # for FAILED: a refusal about the member (see JournalEntry.final)
    fallback: bool = False  # SENT through the SMS fallback
    parts: int = 0  # SENT by SMS: the billed parts (counted per day, `counts.py`)


@dataclass(frozen=True)
class AlertSummary:
    """Counts by state and French failure reasons (with counts, most frequent first), and what
    the status webhooks said: delivered (`delivered` or `read`), read, reached by SMS."""

    alert_id: str
    counts: dict[str, int] = field(default_factory=dict)
    failures: list[tuple[str, int]] = field(default_factory=list)
    delivered: int = 0
    read: int = 0
    by_sms: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def count(self, state: str) -> int:
        return self.counts.get(state, 0)

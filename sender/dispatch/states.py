"""What the dispatch journal stores: row states, rows, send outcomes, summaries and errors.

States:
- `pending`  — claimed by a dispatcher, the send may be in flight (or was, before a crash);
- `sent`     — the channel accepted the message (final);
- `failed`   — definitive failure for this recipient (final: not retried);
- `gave_up`  — transient failure or interrupted batch: retried by the next dispatch;
- `deferred` — held back by the daily limit: sent by a later dispatch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sender.errors import AlerteError

PENDING = "pending"
SENT = "sent"
FAILED = "failed"
GAVE_UP = "gave_up"
DEFERRED = "deferred"
STATES = (PENDING, SENT, FAILED, GAVE_UP, DEFERRED)
FINAL_STATES = frozenset({SENT, FAILED})


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
    recipient: str
    channel: str | None
    state: str
    attempts: int
    message_id: str | None
    wa_id: str | None
    error_code: str | None
    error_text: str | None
    owner: str | None
    created_at: float
    updated_at: float
    sent_at: float | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one send, to be recorded after it (see `Journal.record`)."""

    recipient: str
    state: str  # SENT, FAILED or GAVE_UP
    channel: str
    message_id: str | None = None
    wa_id: str | None = None
    error_code: str | None = None
    error_text: str | None = None


@dataclass(frozen=True)
class AlertSummary:
    """Counts by state and French failure reasons (with counts, most frequent first)."""

    alert_id: str
    counts: dict[str, int] = field(default_factory=dict)
    failures: list[tuple[str, int]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def count(self, state: str) -> int:
        return self.counts.get(state, 0)

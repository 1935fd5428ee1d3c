"""Dispatch: the per-recipient journal, the daily limit and the concurrent dispatcher."""

from sender.dispatch.dispatcher import AlertMessages, Compose, Dispatcher
from sender.dispatch.journal import (
    AlertSummary,
    Journal,
    JournalBusy,
    JournalCorrupt,
    JournalEntry,
    JournalError,
    LeaseLost,
    Outcome,
)
from sender.dispatch.report import DispatchReport

__all__ = [
    "AlertMessages",
    "AlertSummary",
    "Compose",
    "DispatchReport",
    "Dispatcher",
    "Journal",
    "JournalBusy",
    "JournalCorrupt",
    "JournalEntry",
    "JournalError",
    "LeaseLost",
    "Outcome",
]

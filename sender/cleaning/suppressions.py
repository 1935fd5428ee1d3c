"""The suppression list seen by the cleaning: was this number erased after an unsubscription,
and when? Numbers are compared through their keyed digest (`consent.tokens.number_digest`),
the only thing the journal file keeps of them (`journal/privacy.py`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sender.config import Settings
from sender.consent.tokens import load_secret, number_digest
from sender.dates import PARIS
from sender.journal.file import JournalFile
from sender.journal.privacy import suppressions


class SuppressionList:
    """Callable as `cleaning.inscriptions.Suppressed`: the time a number was erased, or None."""

    def __init__(self, secret: bytes, erased: Mapping[str, float]) -> None:
        self.secret = secret
        self.erased = dict(erased)

    @classmethod
    def load(cls, settings: Settings, file: JournalFile | None = None) -> SuppressionList:
        """The list kept in the journal file (raises the journal's French errors)."""
        file = file if file is not None else JournalFile(settings.journal)
        return cls(load_secret(settings), suppressions(file))

    def digest(self, numero: str) -> str:
        return number_digest(self.secret, numero)

    def __call__(self, numero: str) -> datetime | None:
        if not self.erased:
            return None
        when = self.erased.get(self.digest(numero))
        return datetime.fromtimestamp(when, PARIS) if when is not None else None

    def __len__(self) -> int:
        return len(self.erased)

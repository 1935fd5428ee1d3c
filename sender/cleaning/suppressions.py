"""The suppression list seen by the cleaning: was this number erased after an unsubscription,
and when? Numbers are compared through their keyed digest (`consent.tokens.number_digest`),
the only thing the journal file keeps of them (`journal/privacy.py`).

The secret is read only when a digest is needed (an empty list needs none), and digests are
remembered between cycles (`refresh`): with a list to check, each number of the register is
hashed once per process, not once per cycle."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from sender.config import Settings
from sender.consent.tokens import load_secret, number_digest
from sender.dates import PARIS
from sender.journal.file import JournalFile
from sender.journal.privacy import suppressions


class SuppressionList:
    """Callable as `cleaning.inscriptions.Suppressed`: the time a number was erased, or None."""

    def __init__(self, secret: bytes | Callable[[], bytes], erased: Mapping[str, float]) -> None:
        self._secret = secret
        self.erased = dict(erased)
        self._digests: dict[str, str] = {}

    @classmethod
    def load(cls, settings: Settings, file: JournalFile | None = None) -> SuppressionList:
        """The list kept in the journal file (raises the journal's French errors)."""
        file = file if file is not None else JournalFile(settings.journal)
        return cls(lambda: load_secret(settings), suppressions(file))

    def refresh(self, file: JournalFile) -> SuppressionList:
        """Read the list again (entries added by another process); digests are kept."""
        self.erased = suppressions(file)
        return self

    @property
    def secret(self) -> bytes:
        if callable(self._secret):
            self._secret = self._secret()
        return self._secret

    def digest(self, numero: str) -> str:
        found = self._digests.get(numero)
        if found is None:
            found = self._digests[numero] = number_digest(self.secret, numero)
        return found

    def __call__(self, numero: str) -> datetime | None:
        if not self.erased:
            return None
        when = self.erased.get(self.digest(numero))
        return datetime.fromtimestamp(when, PARIS) if when is not None else None

    def __len__(self) -> int:
        return len(self.erased)

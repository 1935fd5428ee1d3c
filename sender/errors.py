"""Typed errors, and when to try again.

Each error says, in French, what went wrong and whether retrying may help; `RetryPolicy` says how
long to wait before the next attempt (the channels, the Sheets register and the SQLite files
share it).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

RETRY_AFTER_LIMIT = 300.0  # seconds: a longer Retry-After counts as this


class AlerteError(Exception):
    """Base class: `message` is French and shown to users as is."""

    retryable: bool = False

    def __init__(self, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        if retryable is not None:
            self.retryable = retryable


class ConfigurationError(AlerteError):
    """Missing or invalid setting (environment variable, file)."""


class RegisterError(AlerteError):
    """The register cannot be read or written."""


class RegisterUnavailable(RegisterError):
    """Transient: quota, server error, lock held, network. Retrying later may work."""

    retryable = True


class RegisterCorrupt(RegisterError):
    """The register file or sheet is not what we expect; nothing was written."""


class InputError(AlerteError):
    """A file or a value given by a user cannot be used."""


def parse_retry_after(
    headers: Mapping[str, str], names: Sequence[str] = ("Retry-After",)
) -> float | None:
    """Seconds to wait, from the first of the `names` headers that holds a number, kept within
    0 and `RETRY_AFTER_LIMIT`; None when none does."""
    for name in names:
        raw = headers.get(name)
        if raw:
            try:
                seconds = float(raw)
            except ValueError:
                continue
            return max(0.0, min(seconds, RETRY_AFTER_LIMIT))
    return None


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded attempts; between two, exponential backoff with jitter and a server's Retry-After
    as a floor."""

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_wait: float = RETRY_AFTER_LIMIT  # the longest a server's Retry-After may make us wait

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """The pause after failed attempt `attempt` (1 for the first): drawn between half the
        ceiling and the ceiling, which doubles from `base_delay` up to `max_delay`."""
        # The exponent is bounded: a loop of thousands of attempts must not overflow a float.
        ceiling = min(self.max_delay, self.base_delay * 2 ** min(attempt - 1, 32))
        pause = random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not cryptography
        return max(pause, min(retry_after or 0.0, self.max_wait))

"""The circuit breaker: the same suspect error for many members in a row is a setting problem.

A wrong `WHATSAPP_API_URL` answers HTTP 404 to every member; a wrong phone number id or template
parameter names give code 100 or 135000 to every member. Counted as refusals of each member,
such an alert would end « diffusée » with only failures. The dispatcher feeds every result to
`CircuitBreaker.observe`: `THRESHOLD` suspect errors with the same code in a row (no success in
between) stop the batch with the error's likely cause, and those members stay retryable.
"""

from __future__ import annotations

THRESHOLD = 5


class CircuitBreaker:
    """Counts consecutive suspect errors with the same code (not thread-safe: the dispatcher
    records results from one thread)."""

    def __init__(self, threshold: int = THRESHOLD) -> None:
        self.threshold = threshold
        self._code: str | None = None
        self._count = 0

    def observe(self, code: str | None, suspect: str | None) -> str | None:
        """One result: `suspect` is the likely cause of a suspect error, None for a success or
        an ordinary error. Returns the reason to stop the batch once tripped."""
        if suspect is None:
            self._code, self._count = None, 0
            return None
        if code == self._code:
            self._count += 1
        else:
            self._code, self._count = code, 1
        if self._count >= self.threshold:
            return f"{suspect} ({self._count} refus identiques de suite)"
        return None

"""The circuit breaker: the same suspect error for many members in a row is a setting problem,
and many lost answers in a row are an API that stalls.

A wrong `WHATSAPP_API_URL` answers HTTP 404 to every member; a wrong phone number id or template
parameter names give code 100 or 135000 to every member. Counted as refusals of each member,
such an alert would end « diffusée » with only failures. The dispatcher feeds every result to
`CircuitBreaker.observe`: `THRESHOLD` suspect errors with the same code in a row (no success in
between) stop the batch with the error's likely cause, and those members stay retryable.

`observe_lost` counts answers lost in a row: after `LOST_THRESHOLD` the API is not answering
any more, and every new request would be one more message of unknown fate (a possible second
copy later). The dispatch pauses (the alert stays « en cours » and resumes at the next cycle).
"""

from __future__ import annotations

THRESHOLD = 5
LOST_THRESHOLD = 10


class CircuitBreaker:
    """Counts consecutive suspect errors with the same code (not thread-safe: the dispatcher
    records results from one thread)."""

    def __init__(self, threshold: int = THRESHOLD, lost_threshold: int = LOST_THRESHOLD) -> None:
        self.threshold = threshold
        self.lost_threshold = lost_threshold
        self._code: str | None = None
        self._count = 0
        self._lost = 0

    def observe_lost(self) -> str | None:
        """One more lost answer; returns the reason to pause once too many came in a row."""
        self._lost += 1
        if self._lost >= self.lost_threshold:
            return (
                f"WhatsApp ne répond plus ({self._lost} demandes de suite sans réponse) : envoi "
                "suspendu pour ne pas multiplier les messages incertains, reprise au prochain "
                "passage."
            )
        return None

    def observe(self, code: str | None, suspect: str | None) -> str | None:
        """One result: `suspect` is the likely cause of a suspect error, None for a success or
        an ordinary error. Returns the reason to stop the batch once tripped."""
        self._lost = 0  # the API answered
        if suspect is None:
            self._code, self._count = None, 0
            return None
        if code == self._code:
            self._count += 1
        else:
            self._code, self._count = code, 1
        if self._count >= self.threshold:
            return f"{suspect.rstrip('.')} ({self._count} refus identiques de suite)."
        return None

"""Refused requests, logged as one summary line per minute with counts by reason.

A flood of refused requests (unsigned webhook posts, unreadable payloads, other host names)
must not fill the disk with one line each: the first refusal of a quiet period is logged at
once, the following ones are counted and logged together once a minute has passed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable

SUMMARY_SECONDS = 60.0


class RefusalLog:
    """Counts refusals by French reason; logs them at most once per `SUMMARY_SECONDS`."""

    def __init__(
        self, logger: logging.Logger, what: str, *, clock: Callable[[], float] = time.monotonic,
        level: int = logging.WARNING, outcome: str = "refusées",
    ) -> None:
        self.logger = logger
        self.what = what
        self.level = level
        self.outcome = outcome
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._logged_at: float | None = None

    def refused(self, reason: str, count: int = 1) -> None:
        """Count `count` refusals; log the summary if the last one is a minute old."""
        with self._lock:
            self._counts[reason] += count
            now = self._clock()
            if self._logged_at is not None and now - self._logged_at < SUMMARY_SECONDS:
                return
            counts, self._counts = self._counts, Counter()
            self._logged_at = now
        self._log(counts)

    def flush(self) -> None:
        """Log what was counted since the last line (at shutdown, or in tests)."""
        with self._lock:
            counts, self._counts = self._counts, Counter()
            self._logged_at = self._clock()
        if counts:
            self._log(counts)

    def _log(self, counts: Counter[str]) -> None:
        detail = ", ".join(f"{reason} : {n}" for reason, n in counts.most_common())
        self.logger.log(
            self.level, "%s %s (%d) — %s.", self.what, self.outcome, sum(counts.values()),
            detail,
        )

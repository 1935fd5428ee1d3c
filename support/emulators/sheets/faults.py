"""Faults injected into the emulator's answers (thread-safe): a queue of planned faults
(``fail_next``, ``drop_next``, ``delay_next``) and a seeded random mode."""

from __future__ import annotations

import random
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from support.emulators.sheets.errors import DEFAULT_MESSAGES


@dataclass(slots=True)
class Fault:
    action: str  # "status" | "drop" | "delay"
    status: int = 0
    message: str = ""
    seconds: float = 0.0
    kinds: frozenset[str] | None = None


class FaultPlan:
    """The faults still to come; `take` hands out the one due for a request of some kind."""

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._queued: deque[Fault] = deque()
        self._rng: random.Random | None = None
        self._rates = (0.0, 0.0, 0.0)

    def fail_next(self, n: int = 1, status: int = 429, message: str | None = None, *,
                  kinds: Iterable[str] | None = None) -> None:
        """Answer the next ``n`` requests (of ``kinds`` if given) with an error, unapplied."""
        text = message or DEFAULT_MESSAGES.get(status, "Injected error.")
        self._queue(n, Fault("status", status=status, message=text, kinds=_kinds(kinds)))

    def drop_next(self, n: int = 1, *, kinds: Iterable[str] | None = None) -> None:
        """Close the socket of the next ``n`` requests without answering (nothing applied)."""
        self._queue(n, Fault("drop", kinds=_kinds(kinds)))

    def delay_next(self, n: int, seconds: float, *, kinds: Iterable[str] | None = None) -> None:
        """Apply the next ``n`` requests, then wait ``seconds`` before answering."""
        self._queue(n, Fault("delay", seconds=seconds, kinds=_kinds(kinds)))

    def at_random(self, rate_429: float = 0.0, rate_5xx: float = 0.0, rate_drop: float = 0.0,
                  seed: int | None = 0) -> None:
        """Random faults on requests not already covered by a queued fault; all 0 disables."""
        with self._lock:
            self._rates = (rate_429, rate_5xx, rate_drop)
            self._rng = random.Random(seed) if any(self._rates) else None

    def clear(self) -> None:
        with self._lock:
            self._queued.clear()
            self._rng = None
            self._rates = (0.0, 0.0, 0.0)

    def _queue(self, n: int, fault: Fault) -> None:
        with self._lock:
            self._queued.extend([fault] * n)

    def take(self, kind: str) -> Fault | None:
        """The fault for this request (the first queued one that applies, else a random draw)."""
        with self._lock:
            for fault in self._queued:
                if fault.kinds is None or kind in fault.kinds:
                    self._queued.remove(fault)
                    return fault
            if self._rng is not None:
                draw = self._rng.random()
                r429, r5xx, rdrop = self._rates
                if draw < r429:
                    return Fault("status", 429, DEFAULT_MESSAGES[429])
                if draw < r429 + r5xx:
                    status = self._rng.choice((500, 503))
                    return Fault("status", status, DEFAULT_MESSAGES[status])
                if draw < r429 + r5xx + rdrop:
                    return Fault("drop")
        return None


def _kinds(kinds: Iterable[str] | None) -> frozenset[str] | None:
    return frozenset(kinds) if kinds else None

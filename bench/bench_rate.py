"""Throughput ceiling: one alert to 400 members through WhatsApp with `ALERTE_DEBIT=80`.

Meta refuses more than 80 messages per second per number (130429). The emulator notes the time
each message is accepted; the figure is the largest number accepted in any one-second window
(sliding, half-open), which must stay at or under the rate — including the first second.
"""

from __future__ import annotations

import bisect
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.bench_dispatch import dispatch_one_alert
from support.emulators.http import Request
from support.scenario import TimedWhatsAppEmulator

RECIPIENTS = 400
RATE = 80.0
CONCURRENCY = 32


class StampingWhatsAppEmulator(TimedWhatsAppEmulator):
    """Keeps the monotonic time of every accepted message."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stamps: list[float] = []

    def handle(self, request: Request):  # type: ignore[override]
        reply = super().handle(request)
        if reply.status == 200:
            with self._lock:
                self.stamps.append(time.monotonic())
        return reply


def max_in_any_second(stamps: list[float]) -> int:
    ordered = sorted(stamps)
    return max((bisect.bisect_left(ordered, t + 1.0) - i for i, t in enumerate(ordered)),
               default=0)


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, StampingWhatsAppEmulator(latency=0.02) as wa:
        dispatch_one_alert(Path(tmp), wa, RECIPIENTS, RATE, CONCURRENCY)
        stamps = list(wa.stamps)
    first = sorted(stamps)[:1]
    in_first_second = sum(t < first[0] + 1.0 for t in stamps) if first else 0
    return {
        "recipients": RECIPIENTS,
        "rate": RATE,
        "accepted": len(stamps),
        "max_sends_in_any_second": max_in_any_second(stamps),
        "sends_in_first_second": in_first_second,
        "seconds": round(max(stamps) - min(stamps), 2) if stamps else 0.0,
    }


if __name__ == "__main__":
    print(run())

"""`GET /sante`: the sender's health as JSON for an uptime monitor (200 healthy, 503 not; see
`sender.health.report`). The report opens the journal for a write test: it is computed at most
once every `CACHE_SECONDS` whatever the number of requests (a public endpoint stays cheap)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Final

from sender.health.report import Health
from sender.intake.responses import Response

PATH: Final = "/sante"
CACHE_SECONDS: Final = 5.0
JSON: Final = "application/json; charset=utf-8"


class HealthEndpoint:
    def __init__(self, report: Callable[[], Health], *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.report = report
        self.clock = clock
        self._lock = threading.Lock()
        self._cached: tuple[float, Health] | None = None

    def handle(self, method: str) -> Response:
        if method not in ("GET", "HEAD"):
            return Response(405, b'{"erreur": "GET seulement"}', JSON,
                            headers=[("Allow", "GET, HEAD")])
        with self._lock:
            now = self.clock()
            if self._cached is None or now - self._cached[0] >= CACHE_SECONDS:
                self._cached = (now, self.report())
            health = self._cached[1]
        body = json.dumps(health.body, ensure_ascii=False, indent=2).encode("utf-8")
        return Response(health.status, body, JSON)

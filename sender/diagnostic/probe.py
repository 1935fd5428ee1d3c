"""HTTP GETs of the diagnostic: bounded timeout, JSON answers, and the `Date` of each answer
kept to measure the server clock's skew (`skews`)."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any


class ProbeError(Exception):
    """The service could not be reached (French text in `args[0]`)."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: Mapping[str, str]

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None


@dataclass
class Probe:
    """Makes the diagnostic's requests and remembers each service's clock skew."""

    timeout: float = 5.0
    skews: dict[str, float] = field(default_factory=dict)  # service → server minus local, s
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, url: str, service: str, headers: Mapping[str, str] | None = None) -> Answer:
        if not url.startswith(("https://", "http://")):
            raise ProbeError(f"{service} : adresse invalide « {url[:80]} » (http ou https)")
        request = urllib.request.Request(  # noqa: S310  # nosec B310 - http(s) only, checked above
            url, headers=dict(headers or {}), method="GET")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310  # nosec B310 - http(s) only, checked above
                answer = Answer(response.status, response.read(1_000_000),
                                dict(response.headers))
        except urllib.error.HTTPError as exc:
            answer = Answer(exc.code, exc.read(1_000_000), dict(exc.headers or {}))
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ProbeError(f"{service} injoignable ({reason})") from exc
        self._note_date(service, answer.headers.get("Date"))
        return answer

    def _note_date(self, service: str, date: str | None) -> None:
        if not date:
            return
        try:
            server = parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            return
        # The header has a one-second resolution: half a second is the expected rounding.
        skew = server + 0.5 - time.time()
        with self._lock:
            self.skews.setdefault(service, skew)

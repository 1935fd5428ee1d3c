"""Push pings to an uptime monitor (`ALERTE_PING_URL`), in the convention healthchecks.io and
Uptime Kuma share: `<url>/start` when a cycle starts, `<url>` when it succeeds, `<url>/fail`
with a short reason in the body when it fails.

A ping never blocks or fails a cycle: pings wait in a small queue (dropped when it is full) for
one background thread, each with a 5 s timeout. An unreachable monitor is logged once, when it
stops answering, and once more when it answers again; never once per cycle.
"""

from __future__ import annotations

import logging
import queue
import threading
import urllib.error
import urllib.request
from urllib.parse import urlsplit, urlunsplit

from sender.text import mask_numbers

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5.0
REASON_CHARS = 200
QUEUE_SIZE = 8
_STOP = object()


def ping_address(url: str, event: str) -> str:
    """`url` with `/start` or `/fail` added to its path (before any query); as is for
    `success`."""
    if event == "success":
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/" + event))


class Pinger:
    """Sends the pings of one monitor address from a background thread."""

    def __init__(self, url: str, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self.url = url
        self.timeout = timeout
        self._queue: queue.Queue[object] = queue.Queue(maxsize=QUEUE_SIZE)
        self._failing = False
        self._thread = threading.Thread(target=self._run, name="ping", daemon=True)
        self._thread.start()

    def start(self) -> None:
        self._put(("start", ""))

    def success(self) -> None:
        self._put(("success", ""))

    def fail(self, reason: str) -> None:
        self._put(("fail", mask_numbers(reason)[:REASON_CHARS]))

    def close(self, wait: float = TIMEOUT_SECONDS) -> None:
        """Send what is queued (at most `wait` seconds more), then stop the thread."""
        try:
            self._queue.put(_STOP, timeout=wait)
        except queue.Full:
            return
        self._thread.join(timeout=wait)

    def _put(self, item: tuple[str, str]) -> None:
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            log.debug("ping %s abandonné : file pleine", item[0])

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            event, reason = item  # type: ignore[misc]
            self._send(event, reason)

    def _send(self, event: str, reason: str) -> None:
        address = ping_address(self.url, event)
        body = reason.encode("utf-8") if event == "fail" else None
        request = urllib.request.Request(  # noqa: S310 - http(s) only, checked by the settings
            address, data=body, method="POST" if body is not None else "GET",
            headers={"Content-Type": "text/plain; charset=utf-8", "User-Agent": "alerte-message"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310  # nosec B310 - http(s) only, checked by the settings
                answer.read(1024)
        except (urllib.error.URLError, OSError, ValueError) as error:
            if not self._failing:
                self._failing = True
                log.warning(
                    "Surveillance externe injoignable (ALERTE_PING_URL, %s) : les envois "
                    "continuent ; les échecs suivants ne seront pas répétés.",
                    type(error).__name__,
                )
            return
        if self._failing:
            self._failing = False
            log.warning("Surveillance externe (ALERTE_PING_URL) de nouveau joignable.")

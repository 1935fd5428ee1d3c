"""What the polling loop tells the outside about itself: the heartbeat file (for `/sante`),
the push pings (`ALERTE_PING_URL`) and systemd (`READY=1`, `WATCHDOG=1`, `STATUS=`).

The watchdog is kept by a background thread, never by the cycle itself: it says « alive » while
the loop waits between cycles or while the cycle in progress advances (`progress`, called for
each message of a dispatch), and falls silent when a cycle stops advancing for the watchdog's
period, so that systemd restarts a hung loop but not a long dispatch.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

from systemd_watchdog import WatchDog

from sender.health.ping import Pinger
from sender.health.state import Heartbeat, heartbeat_path, write_heartbeat

log = logging.getLogger(__name__)

WRITE_SECONDS = 5.0  # the heartbeat file, at most this often while a cycle advances


class Monitor:
    """One per polling loop: `cycle_started`, `progress`, `cycle_succeeded` or
    `cycle_failed`; `start` and `close` around the loop."""

    def __init__(
        self,
        data_dir: Path,
        poll_seconds: float,
        *,
        ping_url: str | None = None,
        watchdog: WatchDog | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = heartbeat_path(data_dir)
        self.clock = clock
        self.beat = Heartbeat(pid=os.getpid(), host=socket.gethostname(),
                              poll_seconds=poll_seconds)
        self.pinger = Pinger(ping_url) if ping_url else None
        self.watchdog = watchdog if watchdog is not None else WatchDog()
        self._lock = threading.Lock()
        self._moved = time.monotonic()  # last sign of life of the loop
        self._busy = False
        self._written = 0.0
        self._write_failed = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the loop's calls ------------------------------------------------------------------

    def start(self) -> None:
        """Tell systemd the service is ready; keep the watchdog from a background thread."""
        self.watchdog.ready()
        self.watchdog.status("Surveillance du registre en marche")
        if self.watchdog.is_enabled:
            self._thread = threading.Thread(target=self._keep, name="watchdog", daemon=True)
            self._thread.start()

    def cycle_started(self) -> None:
        with self._lock:
            self._busy = True
            self._moved = time.monotonic()
            self.beat.started = self.beat.progress = self.clock()
        if self.pinger:
            self.pinger.start()
        self._write(force=True)

    def progress(self) -> None:
        """A sign that the cycle in progress advances (cheap: called for each message)."""
        with self._lock:
            self._moved = time.monotonic()
            self.beat.progress = self.clock()
        self._write()

    def cycle_succeeded(self, summary: str) -> None:
        with self._lock:
            self._busy = False
            self._moved = time.monotonic()
            now = self.clock()
            self.beat.started = None
            self.beat.progress = self.beat.last_success = now
            self.beat.last_summary = summary
        if self.pinger:
            self.pinger.success()
        self.watchdog.status(f"Dernier passage réussi : {summary}")
        self._write(force=True)

    def cycle_failed(self, reason: str) -> None:
        with self._lock:
            self._busy = False
            self._moved = time.monotonic()
            now = self.clock()
            self.beat.started = None
            self.beat.last_error = {"at": now, "message": reason}
        if self.pinger:
            self.pinger.fail(reason)
        self.watchdog.status(f"Passage ignoré : {reason}")
        self._write(force=True)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self.pinger:
            self.pinger.close()

    # -- internals ---------------------------------------------------------------------------

    def alive(self, limit: float) -> bool:
        """Waiting between cycles, or a cycle that advanced less than `limit` seconds ago."""
        with self._lock:
            return not self._busy or time.monotonic() - self._moved < limit

    def _keep(self) -> None:
        period = self.watchdog.timeout / 1e6
        while not self._stop.wait(max(period / 4, 0.05)):
            if self.alive(period / 2):
                self.watchdog.notify()

    def _write(self, *, force: bool = False) -> None:
        now = time.monotonic()
        with self._lock:
            if not force and now - self._written < WRITE_SECONDS:
                return
            self._written = now
            beat = Heartbeat(**self.beat.as_json())
        try:
            write_heartbeat(self.path, beat)
        except OSError as error:
            if not self._write_failed:
                log.warning("Fichier de santé %s impossible à écrire (%s).", self.path,
                            type(error).__name__)
            self._write_failed = True
        else:
            self._write_failed = False

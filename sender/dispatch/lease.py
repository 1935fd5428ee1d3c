"""This process's hold on an alert's lease while it dispatches the alert.

The lease itself lives in the journal (`Journal.acquire`, `renew`, `release`). `AlertLease`
decides who this process is (host, pid, random part), takes over the lease of a dead process of
this host (crash, `kill -9`) without waiting for it to expire, renews it in a background thread
every third of its lifetime while the dispatch runs, and gives it back at the end.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sender.journal.journal import Journal
from sender.journal.states import JournalError

log = logging.getLogger(__name__)


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def dead_local_owner(owner: str) -> bool:
    """True if `owner` names a process of this host that no longer exists."""
    parts = owner.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != socket.gethostname() or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return False  # another dispatcher of this very process: alive
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # exists, owned by someone else
    return False


class AlertLease:
    """One alert's lease for one dispatch: `acquire`, then `kept` around the sends."""

    def __init__(self, journal: Journal, alert_id: str, ttl: float) -> None:
        self.journal = journal
        self.alert_id = alert_id
        self.ttl = ttl
        self.owner = owner_id()
        self.lost = False  # set when another owner took the lease during the dispatch
        self._halt = threading.Event()

    def acquire(self) -> bool:
        """Take the lease; also from a dead process of this host. False if someone holds it."""
        if self.journal.acquire(self.alert_id, self.owner, self.ttl):
            return True
        holder = self.journal.holder(self.alert_id)
        if holder is None or not dead_local_owner(holder):
            return False
        log.warning(
            "Alerte %s : reprise du verrou d'un processus arrêté (%s).", self.alert_id, holder
        )
        return self.journal.acquire(self.alert_id, self.owner, self.ttl, replace=holder)

    @contextmanager
    def kept(self) -> Iterator[AlertLease]:
        """Renew the acquired lease in the background; release it on the way out, always."""
        renewal = threading.Thread(target=self._renew, name=f"bail-{self.alert_id}", daemon=True)
        renewal.start()
        try:
            yield self
        finally:
            self._halt.set()
            renewal.join()
            try:
                self.journal.release(self.alert_id, self.owner)
            except JournalError as exc:  # the lease expires by itself
                log.warning("Alerte %s : verrou non libéré (%s).", self.alert_id, exc.message)

    def _renew(self) -> None:
        while not self._halt.wait(self.ttl / 3):
            try:
                if not self.journal.renew(self.alert_id, self.owner, self.ttl):
                    self.lost = True
                    return
            except JournalError as exc:  # transient: the claim check will catch a real loss
                log.warning("Renouvellement du verrou impossible : %s", exc.message)

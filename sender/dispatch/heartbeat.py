"""The dispatcher's side of the alert lease: owner ids, dead local owners, the renewing thread."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid

from sender.dispatch.journal import Journal, JournalError

log = logging.getLogger("sender.dispatch.dispatcher")  # logs as part of the dispatcher


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


class Heartbeat(threading.Thread):
    """Renews the lease every third of its lifetime; flags `lost` if another owner took it."""

    def __init__(self, journal: Journal, alert_id: str, owner: str, ttl: float) -> None:
        super().__init__(name=f"bail-{alert_id}", daemon=True)
        self.journal, self.alert_id, self.owner, self.ttl = journal, alert_id, owner, ttl
        self.lost = False
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(self.ttl / 3):
            try:
                if not self.journal.renew(self.alert_id, self.owner, self.ttl):
                    self.lost = True
                    return
            except JournalError as exc:  # transient: the claim check will catch a real loss
                log.warning("Renouvellement du verrou impossible : %s", exc.message)

    def stop(self) -> None:
        self._halt.set()
        if self.is_alive():
            self.join()

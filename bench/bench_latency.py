"""Reaction time of `surveiller`: from an alert row set to « à diffuser » to the first message.

`Sender.watch` (the loop behind `alerte-message surveiller`) runs in a thread with a 2 s poll on
a SQLite register of 2,000 members. Another connection, like an officer's, turns a « brouillon »
row into « à diffuser » at a random phase of the poll; the WhatsApp emulator timestamps the first
accepted message. Several trials; the worst is reported.
"""

from __future__ import annotations

import random
import tempfile
import threading
import time
from pathlib import Path

from sender import schema
from sender.register.sqlite import SQLiteRegister
from sender.runner import Sender
from sender.tables import CellChange
from support.scenario import (
    TimedWhatsAppEmulator,
    alert_row,
    prevention_alert,
    quiet_console,
    sqlite_register,
    whatsapp_settings,
)

POLL_SECONDS = 2.0
MEMBERS = 2000
TRIALS = 3


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def run(trials: int = TRIALS, poll: float = POLL_SECONDS, members: int = MEMBERS,
        seed: int = 48) -> dict[str, float]:
    rng = random.Random(seed)
    delays: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-latence-") as directory, \
            TimedWhatsAppEmulator(rate_limit=1000, latency=0.01) as wa:
        tmp = Path(directory)
        path = tmp / "registre.sqlite"
        setup = sqlite_register(path, members)
        setup.append(schema.ALERTES, [prevention_alert(str(n + 1), statut=schema.BROUILLON)
                                      for n in range(trials)])
        setup.close()
        settings = whatsapp_settings(tmp, str(path), wa, poll_seconds=poll,
                                     rate_per_second=1000.0)
        sender = Sender(SQLiteRegister(path), settings, console=quiet_console(), progress=False)
        cycles: list[float] = []
        stop = threading.Event()
        loop = threading.Thread(target=sender.watch, args=(stop, lambda r: cycles.append(1)),
                                name="surveiller", daemon=True)
        loop.start()
        officer = SQLiteRegister(path)  # the officer's own connection
        try:
            if not _wait(lambda: cycles, 30):
                raise RuntimeError("the watch loop never completed a cycle")
            for trial in range(trials):
                alert_id = str(trial + 1)
                wa.first_event.clear()
                wa.first_accept = None
                time.sleep(rng.uniform(0, poll))  # a random phase of the poll
                key = next(r.key for r in officer.read([schema.ALERTES])[schema.ALERTES].rows
                           if r.get("id") == alert_id)
                started = time.monotonic()
                officer.write([CellChange(schema.ALERTES, key, "statut", schema.A_DIFFUSER)])
                if not wa.first_event.wait(poll + 30):
                    raise RuntimeError(f"no message for alert {alert_id}")
                assert wa.first_accept is not None
                delays.append(wa.first_accept - started)
                if not _wait(lambda a=alert_id: alert_row(officer, a)["statut"]
                             == schema.DIFFUSEE, 60):
                    raise RuntimeError(f"alert {alert_id} never reached « diffusée »")
        finally:
            stop.set()
            loop.join(timeout=30)
            sender.close()
            officer.close()
    return {"poll_seconds": poll, "row_to_first_message_seconds": round(max(delays), 3)}


if __name__ == "__main__":
    print(run())

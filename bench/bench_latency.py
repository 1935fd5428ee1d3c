"""Reaction time of `surveiller`: from an alert row set to « à diffuser » to the first message.

`Sender.watch` (the loop behind `alerte-message surveiller`) runs in a thread with a 2 s poll on
a register of 2,000 members: the SQLite file (`latency`) or the Google register through the
Sheets emulator in its own process (`latency_sheets`). Another client, like an officer's, turns
a « brouillon » row into « à diffuser » at a random phase of the poll; the WhatsApp emulator
timestamps the first accepted message. Several trials; the worst is reported.

On the Google register it then measures what one idle `alerte-message surveiller` process
costs at the default poll (`ALERTE_INTERVALLE` unset): the Sheets requests it makes in one
minute once started (`idle_requests_per_minute`; the per-user quota is 60 reads a minute).
"""

from __future__ import annotations

import random
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from bench.registers import Backend, register_backend
from sender import schema
from sender.register.base import Register
from sender.runner import Sender
from sender.tables import CellChange
from support.scenario import (
    TimedWhatsAppEmulator,
    alert_row,
    alerte_message_bin,
    prevention_alert,
    quiet_console,
    subprocess_env,
    whatsapp_settings,
)

POLL_SECONDS = 2.0
MEMBERS = 2000
TRIALS = 3
IDLE_WARM_UP = 5.0
IDLE_WINDOW = 60.0


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def _trial(officer: Register, wa: TimedWhatsAppEmulator, alert_id: str, poll: float,
           rng: random.Random) -> float:
    """Seconds from the officer's write to the first message of the alert."""
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
    if not _wait(lambda: alert_row(officer, alert_id)["statut"] == schema.DIFFUSEE, 60):
        raise RuntimeError(f"alert {alert_id} never reached « diffusée »")
    return wa.first_accept - started


def idle_requests_per_minute(backend: Backend, tmp: Path, wa: TimedWhatsAppEmulator,
                             window: float = IDLE_WINDOW) -> float:
    """Sheets requests one idle `alerte-message surveiller` (default poll) makes per minute,
    counted over `window` seconds after a warm-up."""
    env = backend.env(subprocess_env(tmp, backend.spec, wa=wa))
    process = subprocess.Popen([alerte_message_bin(), "surveiller"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(IDLE_WARM_UP)  # start-up and first cycle
        if process.poll() is not None:
            raise RuntimeError("alerte-message surveiller stopped on its own")
        before = backend.requests()
        time.sleep(window)
        counted = backend.requests() - before
    finally:
        process.terminate()
        process.wait(timeout=30)
    return round(counted * 60.0 / window, 1)


def run(trials: int = TRIALS, poll: float = POLL_SECONDS, members: int = MEMBERS,
        seed: int = 48, register: str = "sqlite") -> dict[str, float]:
    rng = random.Random(seed)
    delays: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-latence-") as directory, \
            TimedWhatsAppEmulator(rate_limit=1000, latency=0.01) as wa, \
            register_backend(register, Path(directory), members) as backend:
        tmp = Path(directory)
        setup = backend.open()
        setup.append(schema.ALERTES, [prevention_alert(str(n + 1), statut=schema.BROUILLON)
                                      for n in range(trials)])
        setup.close()
        settings = whatsapp_settings(tmp, backend.spec, wa, poll_seconds=poll,
                                     rate_per_second=1000.0, sheets_api=backend.api)
        sender = Sender(backend.open(), settings, console=quiet_console(), progress=False)
        cycles: list[float] = []
        stop = threading.Event()
        loop = threading.Thread(target=sender.watch, args=(stop, lambda r: cycles.append(1)),
                                name="surveiller", daemon=True)
        loop.start()
        officer = backend.open()  # the officer's own connection
        try:
            if not _wait(lambda: cycles, 30):
                raise RuntimeError("the watch loop never completed a cycle")
            for trial in range(trials):
                delays.append(_trial(officer, wa, str(trial + 1), poll, rng))
        finally:
            stop.set()
            loop.join(timeout=30)
            sender.close()
            officer.close()
        result = {"poll_seconds": poll, "row_to_first_message_seconds": round(max(delays), 3)}
        if backend.sheets is not None:
            result["idle_requests_per_minute"] = idle_requests_per_minute(backend, tmp, wa)
            result["refused_requests"] = backend.refused()
    return result


if __name__ == "__main__":
    print(run())

"""No member gets more than two copies without status webhooks, even when the API stalls.

1,000 members, WhatsApp emulator in this process at 500 messages/s. Once it has accepted 200
messages it stalls for 8 s: it keeps accepting every request but answers none (the sender's
HTTP timeout is 2 s, `ALERTE_DELAI_HTTP=2`). No webhook is configured, so a lost answer can
never be confirmed. Sender cycles (`run_once`) run until the alert is « diffusée » (at most
`MAX_CYCLES`).

- `messages`: messages the emulator accepted; `max_copies`: the most any member received
  (target ≤ 2); `missed`: members who received nothing (the stall accepts everything, so 0);
- `unconfirmed`: members left without confirmation after two possible copies (not resent).
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

from sender import schema
from sender.journal.journal import Journal
from sender.runner import Sender
from support.scenario import (
    TimedWhatsAppEmulator,
    alert_row,
    mobile,
    prevention_alert,
    quiet_console,
    sqlite_register,
    whatsapp_settings,
)

RECIPIENTS = 1000
STALL_AFTER = 200
STALL_SECONDS = 8.0
MAX_CYCLES = 8


def _stall_when_busy(wa: TimedWhatsAppEmulator, done: threading.Event) -> None:
    while not done.wait(0.005):
        if len(wa.accepted) >= STALL_AFTER:
            wa.stall(STALL_SECONDS)
            return


def run(recipients: int = RECIPIENTS) -> dict[str, int]:
    with tempfile.TemporaryDirectory(prefix="bench-copies-") as directory, \
            TimedWhatsAppEmulator(rate_limit=500, latency=0.02) as wa:
        tmp = Path(directory)
        register = sqlite_register(tmp / "registre.sqlite", recipients, alert=prevention_alert())
        settings = whatsapp_settings(tmp, str(tmp / "registre.sqlite"), wa, rate_per_second=500.0,
                                     concurrency=64, http_timeout=2.0)
        done = threading.Event()
        watcher = threading.Thread(target=_stall_when_busy, args=(wa, done), daemon=True)
        watcher.start()
        cycles = 0
        try:
            while cycles < MAX_CYCLES:
                cycles += 1
                sender = Sender(register, settings, console=quiet_console(), progress=False)
                try:
                    sender.run_once()
                finally:
                    sender.close()
                if alert_row(register)["statut"] == schema.DIFFUSEE:
                    break
        finally:
            done.set()
            watcher.join()
        status = alert_row(register)["statut"]
        register.close()
        if status != schema.DIFFUSEE:
            raise RuntimeError(f"alert not « diffusée » after {cycles} cycles: {status}")
        counts = wa.accepted_numbers()
        with Journal(tmp / "journal.sqlite") as journal:
            summary = journal.summary("1")
    return {
        "recipients": recipients,
        "cycles": cycles,
        "messages": sum(counts.values()),
        "max_copies": max(counts.values()),
        "missed": wa.missed(mobile(i) for i in range(recipients)),
        "unconfirmed": summary.count("uncertain"),
    }


if __name__ == "__main__":
    print(run())

"""Dispatch at Meta's top throughput: one alert to 10,000 members at 1,000 messages/s.

The WhatsApp emulator runs in its own process (`support.emulators.process`): it accepts 1,000
messages/s and answers each after 50 ms. The sender (`Sender.run_once`, SQLite register and
journal, real `WhatsAppChannel`) is set to 1,000 messages/s with 128 concurrent sends (50 ms ×
1,000/s = 50 in flight, with room for jitter). Measured like `dispatch`: from the moment
`Sender` hands the alert to the dispatcher to the moment the emulator accepts the last message;
the ideal is recipients / limit = 10 s.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from sender import schema
from sender.runner import Sender
from support.emulators.process import EmulatorProcess
from support.scenario import (
    alert_row,
    prevention_alert,
    quiet_console,
    sqlite_register,
    whatsapp_settings,
)

RECIPIENTS = 10_000
LIMIT = 1000.0
LATENCY = 0.05
CONCURRENCY = 128


class _TimedSender(Sender):
    dispatch_started: float | None = None

    def _dispatch(self, plan):  # type: ignore[override]
        self.dispatch_started = time.monotonic()
        return super()._dispatch(plan)


def run(recipients: int = RECIPIENTS) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-envoi-1000-") as directory, \
            EmulatorProcess(rate=LIMIT, latency=LATENCY) as wa:
        tmp = Path(directory)
        register = sqlite_register(tmp / "registre.sqlite", recipients, alert=prevention_alert())
        settings = whatsapp_settings(tmp, str(tmp / "registre.sqlite"), wa,  # type: ignore[arg-type]
                                     rate_per_second=LIMIT, concurrency=CONCURRENCY)
        sender = _TimedSender(register, settings, console=quiet_console(), progress=False)
        try:
            sender.run_once()
        finally:
            sender.close()
        row = alert_row(register)
        register.close()
        stats = wa.stats()
        if row["statut"] != schema.DIFFUSEE or stats["accepted"] != recipients:
            raise RuntimeError(
                f"dispatch incomplete: statut={row['statut']!r}, accepted={stats['accepted']}"
            )
        assert sender.dispatch_started is not None and stats["last_accept"] is not None
        seconds = stats["last_accept"] - sender.dispatch_started
    ideal = recipients / LIMIT
    return {
        "recipients": recipients,
        "limit_per_s": LIMIT,
        "latency_ms": LATENCY * 1000,
        "duplicates": stats["duplicates"],
        "seconds": round(seconds, 3),
        "ideal_seconds": round(ideal, 3),
        "ratio": round(seconds / ideal, 3),
    }


if __name__ == "__main__":
    print(run())

"""Dispatch throughput: one alert to 2,000 members through WhatsApp at the provider's limit.

The WhatsApp emulator accepts 500 messages/s and answers each after 50 ms; the sender is set to
500 messages/s with 64 concurrent sends. Measured: from the moment `Sender` hands the alert to the
dispatcher to the moment the emulator accepts the last message. The ideal is recipients / limit.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from sender import schema
from sender.runner import Sender
from support.scenario import (
    TimedWhatsAppEmulator,
    alert_row,
    prevention_alert,
    quiet_console,
    sqlite_register,
    whatsapp_settings,
)

RECIPIENTS = 2000
LIMIT = 500.0
LATENCY = 0.05
CONCURRENCY = 64


class TimedSender(Sender):
    """Notes when the dispatcher starts (after the read, cleaning and « en cours » write)."""

    dispatch_started: float | None = None

    def _dispatch(self, plan):  # type: ignore[override]
        self.dispatch_started = time.monotonic()
        return super()._dispatch(plan)


def dispatch_one_alert(
    tmp: Path, wa: object, recipients: int, limit: float, concurrency: int
) -> float:
    """Send one prevention alert to `recipients` members through `wa` (any WhatsApp emulator
    with a `base_url`); return the monotonic time the dispatcher started. Raises when the row
    did not end « diffusée »."""
    register = sqlite_register(tmp / "registre.sqlite", recipients, alert=prevention_alert())
    settings = whatsapp_settings(tmp, str(tmp / "registre.sqlite"), wa,  # type: ignore[arg-type]
                                 rate_per_second=limit, concurrency=concurrency)
    sender = TimedSender(register, settings, console=quiet_console(), progress=False)
    try:
        sender.run_once()
    finally:
        sender.close()
    row = alert_row(register)
    register.close()
    if row["statut"] != schema.DIFFUSEE or sender.dispatch_started is None:
        raise RuntimeError(f"dispatch incomplete: statut={row['statut']!r}")
    return sender.dispatch_started


def figures(recipients: int, limit: float, latency: float, seconds: float) -> dict[str, float]:
    """The table row of a dispatch benchmark: time to the last accepted message vs the ideal."""
    ideal = recipients / limit
    return {
        "recipients": recipients,
        "limit_per_s": limit,
        "latency_ms": latency * 1000,
        "seconds": round(seconds, 3),
        "ideal_seconds": round(ideal, 3),
        "ratio": round(seconds / ideal, 3),
    }


def run(recipients: int = RECIPIENTS) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-envoi-") as directory, \
            TimedWhatsAppEmulator(rate_limit=LIMIT, latency=LATENCY) as wa:
        started = dispatch_one_alert(Path(directory), wa, recipients, LIMIT, CONCURRENCY)
        if len(wa.accepted) != recipients or wa.last_accept is None:
            raise RuntimeError(f"dispatch incomplete: accepted={len(wa.accepted)}")
        seconds = wa.last_accept - started
    return figures(recipients, LIMIT, LATENCY, seconds)


if __name__ == "__main__":
    print(run())

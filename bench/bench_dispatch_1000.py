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
from pathlib import Path

from bench.bench_dispatch import dispatch_one_alert, figures
from support.emulators.process import EmulatorProcess

RECIPIENTS = 10_000
LIMIT = 1000.0
LATENCY = 0.05
CONCURRENCY = 128


def run(recipients: int = RECIPIENTS) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-envoi-1000-") as directory, \
            EmulatorProcess(rate=LIMIT, latency=LATENCY) as wa:
        started = dispatch_one_alert(Path(directory), wa, recipients, LIMIT, CONCURRENCY)
        stats = wa.stats()
        if stats["accepted"] != recipients or stats["last_accept"] is None:
            raise RuntimeError(f"dispatch incomplete: accepted={stats['accepted']}")
        seconds = stats["last_accept"] - started
    return {**figures(recipients, LIMIT, LATENCY, seconds), "duplicates": stats["duplicates"]}


if __name__ == "__main__":
    print(run())

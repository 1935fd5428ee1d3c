"""Delivery under faults: one alert to 2,000 members while both services misbehave.

WhatsApp emulator: 10 % HTTP 5xx, 5 % requests that hang 1.5 s then lose their connection
*without being processed* (the sender's HTTP timeout is 1 s), and random bursts of ten 130429
(throughput) answers. Sheets emulator (real gspread, Google Sheets register): 25 % of requests
answer 429 RESOURCE_EXHAUSTED. Status webhooks are configured (production's setting): the
emulator posts the statuses of the messages it accepts to the sender's receiver, so a request
whose answer was lost is resent once the statuses of later messages came back without its own
(`ALERTE_ATTENTE_STATUT=2`). Sender cycles run until the alert row reads « diffusée » (at most
`MAX_CYCLES` cycles and `MAX_SECONDS`).

- `delivered`: distinct members the emulator accepted a message for (all 2,000 are reachable);
- `duplicates`: messages accepted beyond the first per member (must be 0);
- `wall_seconds`: from the first cycle to the alert « diffusée ».

Without webhooks the sender never resends a request whose answer was lost more than once (no
member gets more than two copies): the ~0.25 % of members whose two requests both hang would
stay unconfirmed. That mode is measured by `max_copies_without_webhooks`.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from pathlib import Path

from sender import schema
from sender.errors import AlerteError
from sender.register.sheets.client import GoogleSheetsRegister
from sender.runner import Sender
from support.emulators.sheets import SheetsEmulator, local_client
from support.scenario import (
    APP_SECRET,
    TimedWhatsAppEmulator,
    fill,
    mobile,
    prevention_alert,
    quiet_console,
    webhook_receiver,
    whatsapp_settings,
)

SHEET_KEY = "1BenchPannesAlerteMessage0123456789abcdefgh"
RECIPIENTS = 2000
MAX_CYCLES = 60
MAX_SECONDS = 240.0
STATUS_WAIT = 2.0


def _status(sheets: SheetsEmulator) -> str:
    rows = sheets.values(SHEET_KEY, schema.ALERTES)
    column = rows[0].index("statut")
    return str(rows[1][column]) if len(rows) > 1 and len(rows[1]) > column else ""


def run(recipients: int = RECIPIENTS, seed: int = 48) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-pannes-") as directory, \
            SheetsEmulator() as sheets, TimedWhatsAppEmulator(rate_limit=500, latency=0.02) as wa, \
            webhook_receiver(Path(directory) / "journal.sqlite") as url:
        tmp = Path(directory)
        wa.webhooks(url, APP_SECRET, delay=0.05, seed=seed)
        sheets.create_spreadsheet(SHEET_KEY)
        register = GoogleSheetsRegister(
            SHEET_KEY, local_client(sheets.base_url), timeout=5, base_delay=0.2, max_delay=2.0,
        )
        fill(register, recipients, alert=prevention_alert())
        settings = whatsapp_settings(tmp, SHEET_KEY, wa, rate_per_second=500.0, concurrency=64,
                                     http_timeout=1.0, whatsapp_app_secret=APP_SECRET,
                                     status_wait=STATUS_WAIT)
        sender = Sender(register, settings, console=quiet_console(), progress=False)
        wa.faults(rate_5xx=0.10, rate_timeout=0.05, burst_130429=0.003, burst_length=10,
                  hang_seconds=1.5, seed=seed)
        sheets.faults(rate_429=0.25, seed=seed)
        started = time.monotonic()
        cycles = 0
        try:
            while cycles < MAX_CYCLES and time.monotonic() - started < MAX_SECONDS:
                cycles += 1
                with contextlib.suppress(AlerteError):  # quota exhausted: next cycle retries
                    sender.run_once()
                if _status(sheets) == schema.DIFFUSEE:
                    break
                time.sleep(STATUS_WAIT / 4)  # the poll interval, short for the benchmark
            wall = time.monotonic() - started
        finally:
            sender.close()
            sheets.clear_faults()
            wa.faults()
        if _status(sheets) != schema.DIFFUSEE:
            raise RuntimeError(f"alert not « diffusée » after {cycles} cycles ({wall:.0f} s)")
        numbers = [mobile(i) for i in range(recipients)]
        delivered = recipients - wa.missed(numbers)
        duplicates = wa.duplicates()
    return {
        "recipients": recipients,
        "delivered": delivered,
        "duplicates": duplicates,
        "wall_seconds": round(wall, 3),
    }


if __name__ == "__main__":
    print(run())

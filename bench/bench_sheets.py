"""Google Sheets requests per cycle, counted by the Sheets emulator (real gspread, real HTTP).

- `idle_poll`: a `run_once` on a warm sender when nothing changed (a draft alert waits in
  `Alertes`: its `controle` line was written once and costs nothing more);
- `clean_10k`: a `run_once` that cleans 10,000 new sign-ups (typed as people type them);
- `dispatch_1_alert`: a `run_once` that sends one alert to 2,000 already-clean members, the
  « en cours » and « diffusée » write-backs included.

Requests are what the API quota counts (one `batchGet`/`batchUpdate` = one request), so the
figures must not grow with the number of rows.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from sender import schema
from sender.register.sheets.client import GoogleSheetsRegister
from sender.runner import Sender
from support.datasets import signups
from support.emulators.sheets import SheetsEmulator, local_client
from support.scenario import (
    TimedWhatsAppEmulator,
    alert_row,
    fill,
    prevention_alert,
    quiet_console,
    whatsapp_settings,
)

SHEET_KEY = "1BenchRegistreAlerteMessage0123456789abcdef"
MEMBERS = 2000
NEW_SIGNUPS = 10_000


def _cycle(sheets: SheetsEmulator, sender: Sender) -> int:
    sheets.reset_counts()
    report = sender.run_once()
    if report.write_error:
        raise RuntimeError(f"write-back failed: {report.write_error}")
    return sheets.total_requests


def run(members: int = MEMBERS, new_signups: int = NEW_SIGNUPS) -> dict[str, int]:
    with tempfile.TemporaryDirectory(prefix="bench-sheets-") as directory, \
            SheetsEmulator() as sheets, TimedWhatsAppEmulator(rate_limit=1000) as wa:
        tmp = Path(directory)
        sheets.create_spreadsheet(SHEET_KEY)
        register = GoogleSheetsRegister(SHEET_KEY, local_client(sheets.base_url))
        fill(register, members)
        register.append(schema.ALERTES, [prevention_alert("9", statut=schema.BROUILLON)])
        settings = whatsapp_settings(tmp, SHEET_KEY, wa, rate_per_second=1000.0)
        sender = Sender(register, settings, console=quiet_console(), progress=False)
        try:
            _cycle(sheets, sender)  # warm-up: metadata, `Etat` rows, heartbeat
            idle = _cycle(sheets, sender)
            if not alert_row(register, "9")["controle"].startswith("Prête"):
                raise RuntimeError("the draft's controle line was not written")

            register.append(schema.ALERTES, [prevention_alert()])
            dispatch = _cycle(sheets, sender)
            row = alert_row(register)
            if row["statut"] != schema.DIFFUSEE or len(wa.accepted) != members:
                raise RuntimeError(f"dispatch incomplete: {row['statut']!r}, {len(wa.accepted)}")

            rows = signups(new_signups)
            for number, signup in enumerate(rows):
                signup["id"] = str(members + 1 + number)
            register.append(schema.INSCRIPTIONS, rows)
            clean = _cycle(sheets, sender)
            if _cycle(sheets, sender) != idle:
                raise RuntimeError("a second cycle after cleaning still wrote to the sheet")
        finally:
            sender.close()
    return {"idle_poll": idle, "clean_10k": clean, "dispatch_1_alert": dispatch}


if __name__ == "__main__":
    print(run())

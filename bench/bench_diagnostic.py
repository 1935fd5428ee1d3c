"""Diagnostic time: every check of `alerte-message diagnostic` against the emulators (Google
Sheets and Drive, the Graph API, Brevo, the public site with its webhook), a register of 1,000
members. Target: 10 s at most (the checks run in parallel, each with a bounded timeout)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from sender.diagnostic import Status
from sender.diagnostic import run as run_diagnostic
from support.diagnostic_world import diagnostic_world
from support.emulators.sheets import SheetsEmulator

MEMBERS = 1000


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, SheetsEmulator() as sheets, \
            diagnostic_world(Path(tmp), sheets, members=MEMBERS) as world:
        started = time.perf_counter()
        lines = run_diagnostic(world.settings, world.services)
        seconds = time.perf_counter() - started
    return {
        "members": MEMBERS,
        "checks": len(lines),
        "failed_checks": sum(line.status is Status.FAIL for line in lines),
        "diagnostic_seconds": round(seconds, 2),
    }


if __name__ == "__main__":
    print(run())

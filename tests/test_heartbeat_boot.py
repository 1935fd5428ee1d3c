"""The heartbeat is written on the first cycle whatever the host's uptime.

`time.monotonic()` counts from boot: on a host up for less than the heartbeat period, a sender that
started its « last heartbeat » at 0.0 skipped the first one. The first test runs the real CLI in a
Linux time namespace whose monotonic clock starts near zero (a freshly booted host); the second
keeps the request budget of a dispatch on such a clock.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from sender import schema
from sender.register.sheets.client import GoogleSheetsRegister
from sender.register.sqlite import SQLiteRegister
from sender.runner import HEARTBEAT_SECONDS, Sender
from support.emulators.sheets import SheetsEmulator, local_client
from support.scenario import (
    SHEETS_DISPATCH_BUDGET,
    TimedWhatsAppEmulator,
    alerte_message_bin,
    fill,
    prevention_alert,
    quiet_console,
    subprocess_env,
    whatsapp_settings,
)
from support.unavailable import unavailable


def _fresh_boot_prefix() -> list[str] | None:
    """`unshare` arguments giving the child a monotonic clock near zero, or None if impossible."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    offset = int(time.monotonic()) - 2
    prefix = [unshare, "--time", "--fork", "--monotonic", f"-{offset}"]
    probe = subprocess.run(
        [*prefix, "python3", "-c", "import time; print(time.monotonic())"],
        capture_output=True, text=True, check=False,
    )
    if probe.returncode != 0 or float(probe.stdout or "1e9") >= HEARTBEAT_SECONDS:
        return None
    return prefix


@pytest.mark.slow
def test_first_cycle_writes_the_heartbeat_on_a_freshly_booted_host(tmp_path: Path) -> None:
    prefix = _fresh_boot_prefix()
    if prefix is None:
        unavailable("time namespaces unavailable here (unshare --time): covered by the next test")
    path = tmp_path / "registre.sqlite"
    SQLiteRegister(path).initialise()
    result = subprocess.run(
        [*prefix, alerte_message_bin(), "envoyer", "--une-fois"],
        env=subprocess_env(tmp_path, str(path)), capture_output=True, text=True, timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    etat = SQLiteRegister(path).read([schema.ETAT])[schema.ETAT]
    keys = {row.get("cle"): row.get("valeur") for row in etat.rows}
    assert keys.get("dernier_passage"), etat.as_dicts()
    assert "adhérent" in keys.get("dernier_bilan", "")


def test_dispatch_budget_holds_when_the_monotonic_clock_is_small(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sender.runner.time.monotonic", lambda: 3.0)  # 3 s after boot
    key = "1Ab" + uuid.uuid4().hex + "boot"
    with SheetsEmulator() as sheets, TimedWhatsAppEmulator() as wa:
        sheets.create_spreadsheet(key)
        register = GoogleSheetsRegister(key, local_client(sheets.base_url), sleep=lambda s: None)
        fill(register, 20)
        sender = Sender(register, whatsapp_settings(tmp_path, key, wa), console=quiet_console(),
                        progress=False)
        try:
            sender.run_once()  # first cycle: the heartbeat rows are written now
            etat = register.read([schema.ETAT])[schema.ETAT]
            assert {r.get("cle") for r in etat.rows} >= {"dernier_passage", "dernier_bilan"}
            register.append(schema.ALERTES, [prevention_alert()])
            sheets.reset_counts()
            sender.run_once()
            dispatch = sheets.total_requests
            assert len(wa.accepted) == 20
        finally:
            sender.close()
    assert dispatch <= SHEETS_DISPATCH_BUDGET

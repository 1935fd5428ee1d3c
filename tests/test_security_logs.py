"""Logs and terminal output never show the WhatsApp token nor a full phone number.

A WhatsApp dispatch with failures (5xx, rate limits, dropped connections, a member without
WhatsApp, a refused token) and a cleaning run at the CLI's default log level (WARNING); the log
records and everything printed on stdout/stderr are searched for the secrets, in every spelling
of the numbers. The masked form (`+33 6 •• •• •• 78`) is what must appear instead.
"""

from __future__ import annotations

import logging
import re
import subprocess
from pathlib import Path

import pytest

from sender import operations, schema
from sender.register.sqlite import SQLiteRegister
from sender.runner import Sender
from sender.text import mask_phone
from support.scenario import (
    TOKEN,
    TimedWhatsAppEmulator,
    alerte_message_bin,
    mobile,
    prevention_alert,
    sqlite_register,
    subprocess_env,
    whatsapp_settings,
)

MEMBERS = 12
ABSENT = mobile(3)  # not on WhatsApp: a per-recipient failure with its number in the error


def _spellings(e164: str) -> list[str]:
    """Ways a full French mobile number can be written."""
    national = "0" + e164[3:]
    pairs = " ".join(national[i:i + 2] for i in range(0, 10, 2))
    return [e164, e164[1:], national, pairs, pairs.replace(" ", "."), e164[3:],
            f"+33 {e164[3]} {' '.join(e164[i:i + 2] for i in range(4, 12, 2))}"]


def _assert_clean(text: str, numbers: list[str]) -> None:
    assert TOKEN not in text
    assert "Bearer" not in text
    for number in numbers:
        for spelling in _spellings(number):
            assert not re.search(rf"(?<![\d]){re.escape(spelling)}(?![\d])", text), (
                f"numéro en clair dans la sortie : {spelling}"
            )


@pytest.fixture
def world(tmp_path: Path):
    path = tmp_path / "registre.sqlite"
    sqlite_register(path, MEMBERS, alert=prevention_alert()).close()
    with TimedWhatsAppEmulator() as wa:
        wa.not_on_whatsapp(ABSENT)
        yield tmp_path, path, wa


def test_in_process_dispatch_and_cleaning_logs_are_masked(world, caplog, capsys):
    tmp, path, wa = world
    caplog.set_level(logging.WARNING)  # what `alerte-message` shows without -v
    wa.fail_next(3, http_status=503)
    wa.fail_next(2, code=130429)
    wa.drop_next(2)  # lost answers: uncertain, not sent again in this cycle
    register = SQLiteRegister(path)
    register.append(schema.INSCRIPTIONS, [
        {"nom": "Fixe", "telephone": "04 66 65 00 00", "commune": "Mende"},
        {"nom": "Doublon", "telephone": "06 00 00 00 01", "commune": "Nulle-Part"},
    ])
    sender = Sender(register, whatsapp_settings(tmp, str(path), wa, rate_per_second=200.0))
    try:
        report = sender.run_once()  # default console: stderr, captured by capsys
        operations.clean_register(register)
    finally:
        sender.close()
        register.close()
    result = report.dispatched[0][1]
    assert result.not_sent == 2 and result.sent + result.failed + result.not_sent == MEMBERS
    captured = capsys.readouterr()
    logs = "\n".join(r.getMessage() for r in caplog.records)
    everything = "\n".join((logs, captured.out, captured.err))
    numbers = [mobile(i) for i in range(MEMBERS)] + ["+33466650000"]
    _assert_clean(everything, numbers)
    assert mask_phone(ABSENT) in logs or any(mask_phone(n) in logs for n in numbers)
    assert caplog.records, "the faults should have produced warnings"


@pytest.mark.slow
def test_cli_dispatch_with_a_refused_token_prints_no_secret(world):
    tmp, path, wa = world
    env = subprocess_env(tmp, str(path), wa=wa)
    wa.fail_next(4, http_status=502)
    result = subprocess.run([alerte_message_bin(), "envoyer", "--une-fois"], env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    _assert_clean(result.stdout + result.stderr, [mobile(i) for i in range(MEMBERS)])

    # A second alert with a wrong token: the batch stops with a French reason, no token shown.
    register = SQLiteRegister(path)
    register.append(schema.ALERTES, [prevention_alert("2")])
    register.close()
    env["WHATSAPP_TOKEN"] = TOKEN + "-perime"
    result = subprocess.run([alerte_message_bin(), "-v", "envoyer", "--une-fois"], env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    output = result.stdout + result.stderr
    assert "jeton" in output.lower()
    _assert_clean(output, [mobile(i) for i in range(MEMBERS)])
    assert "-perime" not in output


def test_cli_cleaning_prints_no_full_number(tmp_path: Path):
    path = tmp_path / "registre.sqlite"
    sqlite_register(path, MEMBERS, clean=False).close()
    env = subprocess_env(tmp_path, str(path))
    result = subprocess.run([alerte_message_bin(), "-v", "nettoyer"], env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "inscriptions" in result.stderr
    _assert_clean(result.stdout + result.stderr, [mobile(i) for i in range(MEMBERS)])

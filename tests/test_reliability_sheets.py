"""Google Sheets quota errors (429 RESOURCE_EXHAUSTED) around a dispatch.

The register is a real gspread client against the Sheets emulator; retries do not sleep. What
must hold: a result that could not be written is written by the next cycle from the journal (no
resend), and an alert row never reads « diffusée » while a member is still without the message.
"""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path

import pytest

from sender import schema
from sender.errors import RegisterUnavailable
from sender.register.sheets.client import GoogleSheetsRegister
from sender.runner import Sender
from support.emulators.sheets import SheetsEmulator, local_client
from support.scenario import (
    TimedWhatsAppEmulator,
    fill,
    mobile,
    prevention_alert,
    quiet_console,
    whatsapp_settings,
)

MEMBERS = 60
WRITES = {"values_batch_update"}


@pytest.fixture
def world(sheets: SheetsEmulator, tmp_path: Path):
    sheets.clear_faults()
    key = "1Ab" + uuid.uuid4().hex + "quota"
    sheets.create_spreadsheet(key)
    register = GoogleSheetsRegister(key, local_client(sheets.base_url), sleep=lambda s: None,
                                    max_attempts=3)
    fill(register, MEMBERS, alert=prevention_alert())
    with TimedWhatsAppEmulator() as wa:
        yield key, register, wa, tmp_path
    sheets.clear_faults()


def _row(sheets: SheetsEmulator, key: str) -> dict[str, str]:
    values = sheets.values(key, schema.ALERTES)
    header, first = values[0], values[1]
    return {h: str(first[i]) if i < len(first) else "" for i, h in enumerate(header)}


class _QuotaAfterDispatch(Sender):
    """Exhausts the Sheets quota right after the dispatch, i.e. for the final write-back."""

    sheets: SheetsEmulator
    armed = True

    def _dispatch(self, plan):  # type: ignore[override]
        result = super()._dispatch(plan)
        if self.armed:
            self.sheets.fail_next(10, 429, kinds=WRITES)
        return result


def test_final_write_back_lost_to_429_is_rewritten_from_the_journal(sheets, world):
    key, register, wa, tmp = world
    sender = _QuotaAfterDispatch(register, whatsapp_settings(tmp, key, wa),
                                 console=quiet_console(), progress=False)
    sender.sheets = sheets
    try:
        report = sender.run_once()
        assert report.write_error and "quota" in report.write_error
        assert len(wa.accepted) == MEMBERS
        assert _row(sheets, key)["statut"] == schema.EN_COURS  # never lost, never « diffusée »

        sheets.clear_faults()
        sender.armed = False
        retry = sender.run_once()
        assert retry.write_error is None
    finally:
        sender.close()
    row = _row(sheets, key)
    assert row["statut"] == schema.DIFFUSEE
    assert (row["destinataires"], row["envoyes"], row["echecs"]) == (str(MEMBERS),) * 2 + ("0",)
    assert wa.duplicates() == 0 and len(wa.accepted) == MEMBERS  # rewritten, not resent


def test_quota_exhausted_on_the_first_write_sends_nothing(sheets, world):
    key, register, wa, tmp = world
    sender = Sender(register, whatsapp_settings(tmp, key, wa), console=quiet_console(),
                    progress=False)
    try:
        sheets.fail_next(10, 429, kinds=WRITES)  # the « en cours » write cannot happen
        with pytest.raises(RegisterUnavailable) as error:
            sender.run_once()
        assert "quota" in error.value.message and "prochain passage" in error.value.message
        assert wa.accepted == []
        sheets.clear_faults()
        sender.run_once()
    finally:
        sender.close()
    assert _row(sheets, key)["statut"] == schema.DIFFUSEE
    assert len(wa.accepted) == MEMBERS and wa.duplicates() == 0


def test_never_diffusee_before_everyone_is_sent_under_random_faults(sheets, world):
    key, register, wa, tmp = world
    settings = whatsapp_settings(tmp, key, wa, max_attempts=1, http_timeout=2.0)
    sender = Sender(register, settings, console=quiet_console(), progress=False)
    wa.faults(rate_5xx=0.3, seed=4)
    sheets.faults(rate_429=0.3, seed=4)
    numbers = [mobile(i) for i in range(MEMBERS)]
    seen_incomplete = False
    try:
        for _ in range(40):
            with contextlib.suppress(RegisterUnavailable):  # quota exhausted: next cycle
                sender.run_once()
            status = _row(sheets, key)["statut"]
            missing = wa.missed(numbers)
            seen_incomplete = seen_incomplete or missing > 0
            if status == schema.DIFFUSEE:
                assert missing == 0
                break
    finally:
        sender.close()
        wa.faults()
        sheets.clear_faults()
    assert seen_incomplete  # the faults did bite: some cycles ended with members missing
    assert _row(sheets, key)["statut"] == schema.DIFFUSEE
    assert wa.duplicates() == 0

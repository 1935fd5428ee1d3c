"""Cleaning a Google Sheet of 10,000 sign-ups: one batch read, one batch write, then nothing."""

from collections import Counter

import pytest

from sender.operations import clean_register
from sender.register.sheets.client import GoogleSheetsRegister
from sender.schema import COLUMNS, INSCRIPTIONS
from support.datasets import signups
from support.emulators.sheets import SheetsEmulator, local_client

KEY = "1CleaningTenThousandSignupsKey_0123456789"


@pytest.fixture(scope="module")
def emulator():
    with SheetsEmulator() as running:
        yield running


@pytest.mark.slow
def test_ten_thousand_signups_one_read_one_write_then_no_write(emulator):
    headers = list(COLUMNS[INSCRIPTIONS])
    rows = [[row.get(h, "") for h in headers] for row in signups(10_000)]
    emulator.create_spreadsheet(KEY, {INSCRIPTIONS: [headers, *rows]})
    register = GoogleSheetsRegister(KEY, local_client(emulator.base_url))
    register.read([INSCRIPTIONS])  # warm: the tab list is fetched once per process
    emulator.reset_counts()

    first = clean_register(register)
    assert first.rows == 10_000 and first.changes
    # the read, where the rows are now, the write
    assert emulator.requests == Counter({"values_batch_get": 2, "values_batch_update": 1})

    emulator.reset_counts()
    second = clean_register(register)
    assert second.changes == []
    assert emulator.requests == Counter({"values_batch_get": 1})

    stored = emulator.values(KEY, INSCRIPTIONS)
    statut = headers.index("statut")
    assert {r[statut] for r in stored[1:]} <= {"actif", "invalide", "doublon"}

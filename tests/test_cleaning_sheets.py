"""Cleaning a Google Sheet of 10,000 sign-ups: one batch read, one batch write, then nothing."""

from collections import Counter

import pytest

from sender.operations import clean_register
from sender.register.sheets.client import GoogleSheetsRegister
from sender.schema import COLUMNS, INSCRIPTIONS
from support.datasets import signups
from support.emulators.sheets import local_client

KEY = "1CleaningTenThousandSignupsKey_0123456789"


@pytest.mark.slow
def test_ten_thousand_signups_one_read_one_write_then_no_write(sheets):
    headers = list(COLUMNS[INSCRIPTIONS])
    rows = [[row.get(h, "") for h in headers] for row in signups(10_000)]
    sheets.create_spreadsheet(KEY, {INSCRIPTIONS: [headers, *rows]})
    register = GoogleSheetsRegister(KEY, local_client(sheets.base_url))
    register.read([INSCRIPTIONS])  # warm: the tab list is fetched once per process
    sheets.reset_counts()

    first = clean_register(register)
    assert first.rows == 10_000 and first.changes
    # the read, where the rows are now, the write
    assert sheets.requests == Counter({"values_batch_get": 2, "values_batch_update": 1})

    sheets.reset_counts()
    second = clean_register(register)
    assert second.changes == []
    assert sheets.requests == Counter({"values_batch_get": 1})

    stored = sheets.values(KEY, INSCRIPTIONS)
    statut = headers.index("statut")
    assert {r[statut] for r in stored[1:]} <= {"actif", "invalide", "doublon"}

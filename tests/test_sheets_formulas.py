"""The Sheets emulator's formulas: what it evaluates, and NOW() moving as the spreadsheet's
recalculation setting (`autoRecalc`) lets it: on a change only, or every minute."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from support.emulators.sheets import SheetsEmulator, local_client
from support.emulators.sheets.formulas import Context, FormulaError, evaluate

NOON = datetime(2026, 12, 4, 12, 0, 30)


def _context(cells: dict[tuple[str | None, int, int], object] | None = None) -> Context:
    cells = cells or {}
    return Context(cell=lambda s, r, c: cells.get((s, r, c)), height=lambda s: 5, now=NOON)


@pytest.mark.parametrize(("formula", "value"), [
    ("=1+2*3", 7.0),
    ('="a"&"b"&1', "ab1"),
    ('=IF(2>1,"oui","non")', "oui"),
    ('=IF(1>2,"oui")', False),
    ('=IFERROR(1/0,"zéro")', "zéro"),
    ('=VALUE(MID("04/12/2026 11:58",12,2))', 11.0),
    ('=LEFT("04/12",2)', "04"),
    ("=DATE(2026,12,4)+TIME(12,0,0)", 46360.5),
    ("=AND(1,NOT(0),OR(0,1))", True),
    ('=IF("A"="a",1,0)', 1.0),
])
def test_formulas(formula: str, value: object):
    assert evaluate(formula, _context()) == value


def test_references_lookups_and_errors():
    cells = {("Etat", 0, 0): "cle", ("Etat", 0, 1): "valeur",
             ("Etat", 1, 0): "dernier_passage", ("Etat", 1, 1): "04/12/2026 11:58"}
    context = _context(cells)
    assert evaluate('=VLOOKUP("dernier_passage",Etat!A:B,2,FALSE)', context) == (
        "04/12/2026 11:58")
    with pytest.raises(FormulaError) as missing:
        evaluate('=VLOOKUP("absent",Etat!A:B,2,FALSE)', context)
    assert missing.value.code == "#N/A"
    with pytest.raises(FormulaError) as unknown:
        evaluate("=HYPERLINK(1)", context)
    assert unknown.value.code == "#NAME?"
    assert evaluate("=NOW()", context) == pytest.approx(46360.5 + 30 / 86400)


def test_now_moves_every_minute_only_when_the_spreadsheet_says_so():
    with SheetsEmulator() as emulator:
        emulator.create_spreadsheet("k", {"Feuille 1": [["x"]]})
        clock = [NOON]
        emulator.set_clock(lambda: clock[0])
        sheet = local_client(emulator.base_url).open_by_key("k").sheet1
        sheet.update([["=NOW()*1440"]], "B1", value_input_option="USER_ENTERED")
        first = sheet.acell("B1", value_render_option="UNFORMATTED_VALUE").value
        clock[0] = NOON + timedelta(minutes=5)
        assert sheet.acell("B1", value_render_option="UNFORMATTED_VALUE").value == first
        sheet.spreadsheet.batch_update({"requests": [{"updateSpreadsheetProperties": {
            "properties": {"autoRecalc": "MINUTE"}, "fields": "autoRecalc"}}]})
        assert sheet.spreadsheet.fetch_sheet_metadata()["properties"]["autoRecalc"] == "MINUTE"
        clock[0] = NOON + timedelta(minutes=9)
        later = sheet.acell("B1", value_render_option="UNFORMATTED_VALUE").value
        assert later == pytest.approx(first + 9, abs=1)
        assert sheet.acell("B1", value_render_option="FORMULA").value == "=NOW()*1440"

"""Google Sheets behaviours the register must live with, played by the emulator as Google does:
`values:append` table detection stops at a blank row; tab titles are unique whatever their case
and ranges name them in any case."""

from __future__ import annotations

import pytest

from sender import schema
from sender.register.sheets.client import GoogleSheetsRegister
from support.emulators.sheets import SheetsEmulator, local_client
from support.scenario import sheets_register


def _register(sheets: SheetsEmulator, tabs=None) -> tuple[GoogleSheetsRegister, str]:
    return sheets_register(sheets, tabs)


def test_new_rows_land_after_the_last_row_even_with_blank_rows_inside(
    sheets: SheetsEmulator,
) -> None:
    register, key = _register(sheets)
    register.initialise()
    register.append(schema.INSCRIPTIONS, [{"nom": f"Avant {i}"} for i in range(3)])
    # staff left two blank rows, then typed more members below them
    sheets.set_values(key, schema.INSCRIPTIONS, [["7", "", "saisie", "Après le blanc"]],
                      start_row=7)
    keys = register.append(schema.INSCRIPTIONS, [{"nom": "Nouveau"}])
    assert keys == [8]
    names = [row[3] if len(row) > 3 else "" for row in sheets.values(key, schema.INSCRIPTIONS)]
    assert names == ["nom", "Avant 0", "Avant 1", "Avant 2", "", "", "Après le blanc", "Nouveau"]
    table = register.read([schema.INSCRIPTIONS])[schema.INSCRIPTIONS]
    assert [r.key for r in table.rows if r.get("nom") == "Nouveau"] == keys
    assert table.rows[-1].get("id") == "8"  # the next id after the highest one in the tab


def test_emulator_append_from_a1_stops_at_the_first_blank_row(sheets: SheetsEmulator) -> None:
    _, key = _register(sheets, {"Feuille 1": [["a"], ["b"], [], ["c"]]})
    sheet = local_client(sheets.base_url).open_by_key(key).sheet1
    reply = sheet.append_row(["nouveau"], table_range="A1")
    assert reply["tableRange"] == "'Feuille 1'!A1:A2"
    assert reply["updates"]["updatedRange"] == "'Feuille 1'!A3"
    # OVERWRITE (gspread's default) fills the blank row: in the middle of the data
    assert sheets.values(key, "Feuille 1") == [["a"], ["b"], ["nouveau"], ["c"]]


def test_a_tab_renamed_in_lower_case_is_still_the_register_tab(sheets: SheetsEmulator) -> None:
    register, key = _register(sheets)
    register.initialise()
    register.append(schema.INSCRIPTIONS, [{"nom": "Marie", "telephone": "0612345678"}])
    sheets.sheet(key, schema.INSCRIPTIONS).title = "inscriptions"
    fresh = GoogleSheetsRegister(key, local_client(sheets.base_url), sleep=lambda s: None)
    report = fresh.initialise()
    assert not report.created_tabs and not report.changed
    assert sheets.tabs(key).count("inscriptions") == 1
    assert "Inscriptions" not in sheets.tabs(key)
    rows = fresh.read([schema.INSCRIPTIONS])[schema.INSCRIPTIONS].rows
    assert [r.get("nom") for r in rows] == ["Marie"]


def test_emulator_refuses_a_title_differing_only_by_case(sheets: SheetsEmulator) -> None:
    _, key = _register(sheets, {"Inscriptions": []})
    spreadsheet = local_client(sheets.base_url).open_by_key(key)
    import gspread

    with pytest.raises(gspread.exceptions.APIError) as caught:
        spreadsheet.add_worksheet("INSCRIPTIONS", 10, 5)
    assert caught.value.response.status_code == 400
    assert "already exists" in caught.value.error["message"]

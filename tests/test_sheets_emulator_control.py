"""The Sheets emulator's control endpoints (`/_emulator/…`), which let a test drive the
emulator running in another process: counts, the spreadsheet as staff see it, hand edits."""

from __future__ import annotations

import requests

from support.emulators.sheets import SheetsEmulator, local_client

KEY = "1AbCControleEmulateurFeuille0123456789"


def control(sheets: SheetsEmulator, path: str, payload: dict | None = None) -> requests.Response:
    url = f"{sheets.base_url}/_emulator/{path}"
    if payload is None:
        return requests.get(url, timeout=5)
    return requests.post(url, json=payload, timeout=5)


def test_counts_and_refusals_are_reported_and_control_requests_are_not_counted(
    sheets: SheetsEmulator,
) -> None:
    sheets.create_spreadsheet(KEY, {"Onglet": [["nom"], ["b"], ["a"]]})
    worksheet = local_client(sheets.base_url).open_by_key(KEY).worksheet("Onglet")
    assert worksheet.get_all_values() == [["nom"], ["b"], ["a"]]
    served = sheets.total_requests
    refused = requests.get(f"{sheets.base_url}/v4/spreadsheets/{KEY}/values:batchGet",
                           params={"ranges": "Onglet", "inconnu": "1"}, timeout=5)
    assert refused.status_code == 400
    stats = control(sheets, "stats").json()
    assert stats["total"] == sheets.total_requests == served + 1
    assert [(r["kind"], r["status"]) for r in stats["refused"]] == [("values_batch_get", 400)]
    assert control(sheets, "stats").json()["total"] == served + 1


def test_staff_edits_now_or_before_a_later_request(sheets: SheetsEmulator) -> None:
    sheets.create_spreadsheet(KEY, {"Onglet": [["nom"], ["b"], ["a"]]})
    assert control(sheets, "staff", {"action": "sort_rows", "key": KEY, "tab": "Onglet",
                                     "column": "nom"}).json() == {"done": "sort_rows"}
    assert sheets.values(KEY, "Onglet") == [["nom"], ["a"], ["b"]]
    planned = control(sheets, "staff", {"action": "insert_rows", "key": KEY, "tab": "Onglet",
                                        "before": 2, "values": [["c"]],
                                        "next_request": "values_batch_get"})
    assert planned.json() == {"planned": "insert_rows"}
    assert sheets.values(KEY, "Onglet") == [["nom"], ["a"], ["b"]]
    worksheet = local_client(sheets.base_url).open_by_key(KEY).worksheet("Onglet")
    assert worksheet.batch_get(["A1:A9"])[0] == [["nom"], ["c"], ["a"], ["b"]]
    tab = control(sheets, f"spreadsheet?key={KEY}").json()["tabs"][0]
    assert tab["title"] == "Onglet" and tab["values"] == [["nom"], ["c"], ["a"], ["b"]]


def test_bad_control_requests_are_answered_400_or_404(sheets: SheetsEmulator) -> None:
    sheets.create_spreadsheet(KEY)
    assert control(sheets, "staff", {"action": "delete_sheet", "key": KEY,
                                     "tab": "Feuille 1"}).status_code == 400
    assert control(sheets, "spreadsheet?key=absent").status_code == 400
    assert control(sheets, "inconnu").status_code == 404

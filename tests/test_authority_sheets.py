"""Authority from Google, not from a typed identifier: the protection of `Alertes`.

Real gspread against the Sheets emulator (which answers protected ranges in Google's wire
format), real WhatsApp requests against its emulator. `initialiser` protects `Alertes` so that only
the active officers' Google accounts (and the accounts Google always keeps) may edit it; a cycle
that would dispatch checks that protection first, and sends nothing when it is missing or altered.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from sender import schema
from sender.alerts.authority import protection_problem
from sender.register.protection import GOOGLE_ACCOUNTS, Protection, parse
from sender.register.sheets.layout import METADATA_FIELDS
from sender.runner import PROTECTION_SECONDS, Sender
from support.emulators.sheets import OWNER, SERVICE_ACCOUNT, SheetsEmulator, local_client
from support.scenario import (
    AGENT_EMAIL,
    TimedWhatsAppEmulator,
    alert_row,
    fill,
    prevention_alert,
    quiet_console,
    sheets_register,
    whatsapp_settings,
)


@pytest.fixture
def world(sheets: SheetsEmulator, tmp_path: Path):
    register, key = sheets_register(sheets)
    fill(register, 5)
    with TimedWhatsAppEmulator(latency=0.0) as wa:
        sender = Sender(register, whatsapp_settings(tmp_path, key, wa), console=quiet_console(),
                        progress=False)
        try:
            yield key, register, sender, wa
        finally:
            sender.close()


def alertes(sheets: SheetsEmulator, key: str) -> list[dict]:
    return sheets.sheet(key, schema.ALERTES).protected_ranges


def edit_protection(sheets: SheetsEmulator, key: str, tab: str) -> dict:
    (protection,) = [p for p in sheets.sheet(key, tab).protected_ranges if not p["warningOnly"]]
    return protection


def test_initialiser_protects_alertes_for_the_officers_and_records_googles_accounts(
    sheets: SheetsEmulator, world
):
    key, register, _, _ = world
    protection = edit_protection(sheets, key, schema.ALERTES)
    assert protection["warningOnly"] is False
    assert protection["range"] == {"sheetId": sheets.sheet(key, schema.ALERTES).sheet_id}
    assert set(protection["editors"]["users"]) == {AGENT_EMAIL, SERVICE_ACCOUNT, OWNER}
    assert protection["description"].endswith(
        f"{GOOGLE_ACCOUNTS}{', '.join(sorted([OWNER, SERVICE_ACCOUNT]))}."
    )
    habilitations = edit_protection(sheets, key, schema.HABILITATIONS)
    assert set(habilitations["editors"]["users"]) == {SERVICE_ACCOUNT, OWNER}
    assert protection_problem(register.protections(), {AGENT_EMAIL}) is None

    sheets.reset_counts()
    assert not register.initialise().changed  # already in place: nothing rewritten
    assert sheets.requests["batch_update"] == 0


def test_metadata_answers_protected_ranges_in_googles_wire_format(sheets: SheetsEmulator, world):
    key, _, _, _ = world
    client = local_client(sheets.base_url)
    meta = client.http_client.fetch_sheet_metadata(
        key, {"includeGridData": "false", "fields": METADATA_FIELDS}
    )
    assert set(meta) == {"spreadsheetId", "properties", "sheets"}
    assert set(meta["properties"]) == {"title", "autoRecalc", "timeZone"}
    by_title = {s["properties"]["title"]: s for s in meta["sheets"]}
    assert set(by_title[schema.ALERTES]["properties"]) <= {
        "sheetId", "title", "index", "gridProperties"}
    wire = [p for p in by_title[schema.ALERTES]["protectedRanges"] if "warningOnly" not in p]
    (edit,) = wire
    # as gspread's recorded exchanges show them: defaults omitted, the requester can edit
    assert set(edit) == {"protectedRangeId", "range", "description", "requestingUserCanEdit",
                         "editors"}
    assert edit["requestingUserCanEdit"] is True
    assert set(edit["editors"]) == {"users"}
    warning = [p for p in by_title[schema.ALERTES]["protectedRanges"] if "warningOnly" in p]
    assert warning and all(p["warningOnly"] is True for p in warning)
    first_tab = meta["sheets"][0]  # « Feuille 1 », sheetId 0: a range on it omits sheetId
    assert first_tab["properties"]["sheetId"] == 0


def test_a_sheet_id_of_zero_is_omitted_on_the_wire_and_still_read(sheets: SheetsEmulator):
    header = list(schema.COLUMNS[schema.ALERTES])
    register, key = sheets_register(sheets, {schema.ALERTES: [header]})
    register.initialise()
    (raw,) = [
        p for p in sheets.spreadsheet(key).metadata()["sheets"][0]["protectedRanges"]
        if "warningOnly" not in p
    ]
    assert raw["range"] == {}
    protection = parse(raw)
    assert protection.whole_tab and not protection.warning_only


def _dispatch_blocked(world, sheets: SheetsEmulator, key: str) -> str:
    _, register, sender, wa = world
    register.append(schema.ALERTES, [prevention_alert("1")])
    report = sender.run_once()
    row = alert_row(register, "1")
    assert wa.accepted == [], "no message may leave while the protection is wrong"
    assert row["statut"] == schema.REFUSEE
    assert report.protection_problem
    etat = {r[0]: r[1] for r in sheets.values(key, schema.ETAT)[1:]}
    assert etat["protection_alertes"].startswith("ATTENTION : ")
    return row["motif"]


def test_missing_protection_blocks_the_dispatch_with_a_clear_motif(sheets, world):
    key = world[0]
    sheets.spreadsheet(key).sheets[  # someone removed the protection of Alertes
        [s.title for s in sheets.spreadsheet(key).sheets].index(schema.ALERTES)
    ].protected_ranges[:] = [p for p in alertes(sheets, key) if p["warningOnly"]]
    motif = _dispatch_blocked(world, sheets, key)
    assert motif.startswith("Diffusion refusée : L'onglet Alertes n'est pas protégé")
    assert "alerte-message initialiser" in motif
    assert "remet la ligne « à diffuser »" in motif


def test_an_extra_editor_blocks_the_dispatch_with_a_clear_motif(sheets, world):
    key = world[0]
    edit_protection(sheets, key, schema.ALERTES)["editors"]["users"].append(
        "curieux@example.org"
    )
    motif = _dispatch_blocked(world, sheets, key)
    assert "en trop : curieux@example.org" in motif


def test_a_warning_only_protection_does_not_count(sheets, world):
    key = world[0]
    edit_protection(sheets, key, schema.ALERTES)["warningOnly"] = True
    motif = _dispatch_blocked(world, sheets, key)
    assert "n'a qu'une protection d'avertissement" in motif


def test_a_new_officer_not_yet_given_the_right_blocks_until_initialiser(sheets, world):
    key, register, sender, wa = world
    register.append(schema.HABILITATIONS, [{
        "identifiant": "P48002", "nom": "Brigadier Durand", "service": "Police", "actif": "oui",
        "email": "brigadier.durand@gmail.com",
    }])
    motif = _dispatch_blocked(world, sheets, key)
    assert "manquants : brigadier.durand@gmail.com" in motif

    register.initialise()
    register.append(schema.ALERTES, [prevention_alert("2")])
    report = sender.run_once()
    assert report.protection_problem is None
    assert alert_row(register, "2")["statut"] == schema.DIFFUSEE
    assert len(wa.accepted) == 5
    assert alert_row(register, "1")["statut"] == schema.REFUSEE  # never sent on its own


def test_habilitations_editable_by_others_blocks_the_dispatch(sheets, world):
    key = world[0]
    edit_protection(sheets, key, schema.HABILITATIONS)["editors"]["users"].append(
        "curieux@example.org"
    )
    motif = _dispatch_blocked(world, sheets, key)
    assert "l'onglet Habilitations" in motif and "curieux@example.org" in motif


def test_idle_cycles_check_at_most_once_per_ten_minutes(sheets, world, monkeypatch):
    _, _, sender, _ = world
    sender.run_once()
    sheets.reset_counts()
    sender.run_once()
    assert sheets.requests == Counter({"values_batch_get": 1})
    import sender.runner as runner_module

    real = runner_module.time.monotonic
    monkeypatch.setattr(runner_module.time, "monotonic",
                        lambda: real() + PROTECTION_SECONDS + 1)
    sheets.reset_counts()
    sender.run_once()
    assert sheets.requests["get_metadata"] == 1


def test_protection_check_is_pure_and_names_every_problem():
    whole = dict(range_id=1, whole_tab=True, groups=frozenset(), domain_can_edit=False)
    good = Protection(warning_only=False, users=frozenset({"a@x.fr", "owner@x.fr"}),
                      description=f"… {GOOGLE_ACCOUNTS}owner@x.fr.", **whole)
    locked = Protection(warning_only=False, users=frozenset({"owner@x.fr"}),
                        description=f"… {GOOGLE_ACCOUNTS}owner@x.fr.", **whole)
    tabs = {schema.ALERTES: [good], schema.HABILITATIONS: [locked]}
    assert protection_problem(tabs, {"a@x.fr"}) is None
    assert "manquants : b@x.fr" in protection_problem(tabs, {"a@x.fr", "b@x.fr"})
    domain = Protection(warning_only=False, users=good.users, description=good.description,
                        range_id=1, whole_tab=True, groups=frozenset(), domain_can_edit=True)
    assert "tout le domaine" in protection_problem(
        {schema.ALERTES: [domain], schema.HABILITATIONS: [locked]}, {"a@x.fr"})
    assert "n'est pas protégé" in protection_problem({}, {"a@x.fr"})

"""Google Sheets register through real gspread and real HTTP, against the local emulator."""

from __future__ import annotations

import json
import uuid
from collections import Counter

import gspread
import pytest

from sender import schema
from sender.errors import ConfigurationError, RegisterError, RegisterUnavailable
from sender.register.defaults import default_template_rows
from sender.register.factory import parse_sheet_key
from sender.register.sheets.banner import is_banner
from sender.register.sheets.client import GoogleSheetsRegister
from sender.tables import CellChange
from sender.text import neutralise
from support.emulators.sheets import Cell, SheetsEmulator, local_client

WRITE_KINDS = {"batch_update", "values_batch_update", "values_update", "values_append"}


@pytest.fixture
def key(sheets: SheetsEmulator) -> str:
    sheets.clear_faults()
    sheets.reset_counts()
    sheet_key = "1Ab" + uuid.uuid4().hex + "xYz_-0123"
    sheets.create_spreadsheet(sheet_key)
    return sheet_key


@pytest.fixture
def make(sheets: SheetsEmulator, key: str, sleeps: list[float]):
    def factory(**options) -> GoogleSheetsRegister:
        options.setdefault("sleep", sleeps.append)
        return GoogleSheetsRegister(key, local_client(sheets.base_url), **options)

    return factory


@pytest.fixture
def register(make) -> GoogleSheetsRegister:
    return make()


@pytest.fixture
def ready(register: GoogleSheetsRegister, sheets: SheetsEmulator) -> GoogleSheetsRegister:
    register.initialise()
    sheets.reset_counts()
    return register


def writes(sheets: SheetsEmulator) -> Counter:
    return Counter({k: n for k, n in sheets.requests.items() if k in WRITE_KINDS})


# --- emulator fidelity (what the register relies on) -----------------------------------------


def test_emulator_parses_user_entered_like_google(sheets: SheetsEmulator, key: str) -> None:
    ws = local_client(sheets.base_url).open_by_key(key).sheet1
    ws.update([["0612345678", "=1+1", "+33612345678", "'0612345678", "29/11/2026 14:05"]], "A1",
              value_input_option="USER_ENTERED")
    ws.update([["0612345678", "=1+1"]], "A2", value_input_option="RAW")
    assert ws.get_all_values() == [
        ["612345678", "2", "33612345678", "0612345678", "29/11/2026 14:05:00"],
        ["0612345678", "=1+1", "", "", ""],
    ]
    unformatted = ws.get("A1:E1", value_render_option="UNFORMATTED_VALUE")
    assert unformatted[0][:4] == [612345678, 2, 33612345678, "0612345678"]
    assert isinstance(unformatted[0][4], float)  # a date serial number
    assert ws.get("B1", value_render_option="FORMULA") == [["=1+1"]]


def test_emulator_trims_and_reports_unknown_tabs(sheets: SheetsEmulator, key: str) -> None:
    sheets.set_values(key, "Feuille 1", [["a", "", ""], ["", "", ""], ["b"], ["", ""]])
    sh = local_client(sheets.base_url).open_by_key(key)
    assert sh.values_get("'Feuille 1'!A1:Z").get("values") == [["a"], [], ["b"]]
    with pytest.raises(gspread.exceptions.APIError) as info:
        sh.values_get("Inconnu!A1:B2")
    assert info.value.code == 400
    assert info.value.error["status"] == "INVALID_ARGUMENT"
    assert "Unable to parse range: Inconnu!A1:B2" in info.value.error["message"]


def test_emulator_refuses_writes_outside_the_grid(sheets: SheetsEmulator, key: str) -> None:
    sh = local_client(sheets.base_url).open_by_key(key)
    with pytest.raises(gspread.exceptions.APIError) as info:
        sh.values_update("'Feuille 1'!AA1", params={"valueInputOption": "RAW"},
                         body={"values": [["x"]]})
    assert "exceeds grid limits" in info.value.error["message"]


# --- initialise --------------------------------------------------------------------------------


def test_initialise_creates_tabs_headers_templates_and_formatting(
    register: GoogleSheetsRegister, sheets: SheetsEmulator, key: str
) -> None:
    report = register.initialise()

    assert report.created_tabs == list(schema.TABS)
    assert sheets.tabs(key) == ["Feuille 1", *schema.TABS]
    for tab, columns in schema.COLUMNS.items():
        banner = [is_banner] if tab == schema.ALERTES else []  # after the headers, see below
        header = sheets.values(key, tab)[0]
        assert header[:len(columns)] == list(columns) and len(header) == len(columns) + len(
            banner)
    assert is_banner(sheets.values(key, schema.ALERTES)[0][-1])
    templates = sheets.values(key, schema.MODELES)[1:]
    assert len(templates) == len(default_template_rows())
    assert templates[0][:2] == ["vol", "sms"]
    # metadata, one formatting batch, one values batch; then the protections of Alertes and
    # Habilitations read back and the accounts Google keeps recorded in their description
    assert sheets.requests == Counter(
        {"get_metadata": 2, "batch_update": 2, "values_batch_update": 1}
    )

    inscriptions = sheets.sheet(key, schema.INSCRIPTIONS)
    assert inscriptions.frozen_rows == 1
    statut = schema.COLUMNS[schema.INSCRIPTIONS].index("statut")
    rules = {
        v["range"]["startColumnIndex"]: v["rule"] for v in inscriptions.validations
    }
    assert [c["userEnteredValue"] for c in rules[statut]["condition"]["values"]] == list(
        schema.INSCRIPTION_STATUSES
    )
    activite = schema.COLUMNS[schema.INSCRIPTIONS].index("activite")
    assert rules[activite]["condition"]["type"] == "ONE_OF_LIST"
    alertes = sheets.sheet(key, schema.ALERTES)
    alert_rules = {v["range"]["startColumnIndex"]: v["rule"] for v in alertes.validations}
    for column, allowed in (
        ("statut", schema.ALERT_STATUSES), ("type", schema.ALERT_ROW_TYPES),
        ("cible_zone", schema.TARGET_ZONES),
    ):
        index = schema.COLUMNS[schema.ALERTES].index(column)
        values = [c["userEnteredValue"] for c in alert_rules[index]["condition"]["values"]]
        assert values == list(allowed)

    (protection,) = inscriptions.protected_ranges
    assert protection["warningOnly"] is True
    assert "expéditeur" in protection["description"]
    first = min(schema.COLUMNS[schema.INSCRIPTIONS].index(c)
                for c in schema.SENDER_COLUMNS[schema.INSCRIPTIONS])
    assert protection["range"]["startColumnIndex"] == first
    assert protection["range"]["endColumnIndex"] == len(schema.COLUMNS[schema.INSCRIPTIONS])
    telephone = schema.COLUMNS[schema.INSCRIPTIONS].index("telephone")
    assert inscriptions.text_ranges == [(0, None, telephone, telephone + 1)]


def test_initialise_twice_changes_nothing(
    register: GoogleSheetsRegister, sheets: SheetsEmulator, key: str
) -> None:
    register.initialise()
    before = {tab: sheets.values(key, tab) for tab in schema.TABS}
    sheets.reset_counts()

    again = GoogleSheetsRegister(key, local_client(sheets.base_url)).initialise()

    assert not again.changed
    assert writes(sheets) == Counter()
    assert {tab: sheets.values(key, tab) for tab in schema.TABS} == before


def test_initialise_completes_an_existing_sheet(
    sheets: SheetsEmulator, make, key: str
) -> None:
    sheets.create_spreadsheet(key, {
        schema.INSCRIPTIONS: [
            ["telephone", "nom", "note CMA", "statut"],
            ["0612345678", "Dupont", "rappeler", "actif"],
        ],
        schema.ALERTES: [list(schema.COLUMNS[schema.ALERTES])],
        schema.MODELES: [list(schema.COLUMNS[schema.MODELES]), ["vol", "sms", "", "fr", "X"]],
    })
    sheets.sheet(key, schema.INSCRIPTIONS).column_count = 5
    alertes = sheets.sheet(key, schema.ALERTES)
    alertes.protected_ranges.append(
        {"protectedRangeId": 99, "range": {"sheetId": alertes.sheet_id}, "warningOnly": True}
    )

    report = make().initialise()

    header = sheets.values(key, schema.INSCRIPTIONS)[0]
    assert header[:4] == ["telephone", "nom", "note CMA", "statut"]
    assert sorted(header) == sorted([*schema.COLUMNS[schema.INSCRIPTIONS], "note CMA"])
    assert sheets.values(key, schema.INSCRIPTIONS)[1] == [
        "0612345678", "Dupont", "rappeler", "actif"
    ]
    assert "Inscriptions.id" in report.added_columns
    assert schema.ALERTES not in report.created_tabs
    # Modeles already had a row: only the follow-up templates it lacked are added below it
    assert report.added_rows == ["Modeles : modèles des suites d'alerte"]
    modeles = sheets.values(key, schema.MODELES)
    assert modeles[1] == ["vol", "sms", "", "fr", "X"]
    assert [r[0] for r in modeles[2:]] == ["suite", "suite", "fin d'alerte", "fin d'alerte"]
    assert alertes.protected_ranges[0]["protectedRangeId"] == 99
    # the warning covers the sender's columns; the edit protection of the tab is added
    after = sheets.sheet(key, schema.ALERTES).protected_ranges
    (edit,) = [p for p in after if not p["warningOnly"]]
    assert edit["range"] == {"sheetId": alertes.sheet_id}
    protected = sheets.sheet(key, schema.INSCRIPTIONS).protected_ranges
    covered = {
        c for p in protected
        for c in range(p["range"]["startColumnIndex"], p["range"]["endColumnIndex"])
    }
    assert {header.index(c) for c in schema.SENDER_COLUMNS[schema.INSCRIPTIONS]} <= covered
    assert sheets.sheet(key, schema.INSCRIPTIONS).column_count >= len(header)

    sheets.reset_counts()
    assert not make().initialise().changed
    assert writes(sheets) == Counter()


def test_initialise_refills_empty_modeles(
    ready: GoogleSheetsRegister, sheets: SheetsEmulator, key: str
) -> None:
    sheet = sheets.sheet(key, schema.MODELES)
    del sheet.rows[1:]
    report = ready.initialise()
    assert report.added_rows
    assert len(sheets.values(key, schema.MODELES)) == 1 + len(default_template_rows())


# --- read ---------------------------------------------------------------------------------------


def test_read_maps_headers_by_name_and_returns_text(
    sheets: SheetsEmulator, make, key: str
) -> None:
    sheets.create_spreadsheet(key, {schema.INSCRIPTIONS: [
        ["nom", "telephone", "", "statut", "id"],
        ["Martin", "0612345678", "ignored", "actif", "1"],
        ["", "", "", "", ""],
        [],
        ["Durand", "'+33 6 12", "", "", "3"],
    ]})
    ws = local_client(sheets.base_url).open_by_key(key).worksheet(schema.INSCRIPTIONS)
    ws.update([["Typed", "0612345678", "", "", "4"]], "A7", value_input_option="USER_ENTERED")

    table = make().read([schema.INSCRIPTIONS])[schema.INSCRIPTIONS]

    assert table.headers == ["nom", "telephone", "statut", "id"]
    assert [row.key for row in table.rows] == [2, 5, 7]
    assert table.rows[0].values == {
        "nom": "Martin", "telephone": "0612345678", "statut": "actif", "id": "1"
    }
    assert table.rows[1].get("telephone") == "'+33 6 12"
    # a phone typed by staff without TEXT format lost its 0; it still comes back as text
    assert table.rows[2].values["telephone"] == "612345678"
    assert table.rows[2].values["id"] == "4"
    assert all(isinstance(v, str) for row in table.rows for v in row.values.values())


def test_warm_read_of_all_tabs_is_one_batch_get(
    ready: GoogleSheetsRegister, sheets: SheetsEmulator
) -> None:
    ready.read(schema.TABS)  # first read after initialise: metadata + batchGet
    sheets.reset_counts()
    for _ in range(3):
        sheets.reset_counts()
        tables = ready.read(schema.TABS)
        assert sheets.requests == Counter({"values_batch_get": 1})
    assert set(tables) == set(schema.TABS)
    assert len(tables[schema.MODELES].rows) == len(default_template_rows())


def test_read_of_missing_tabs_needs_no_values_request(
    register: GoogleSheetsRegister, sheets: SheetsEmulator
) -> None:
    tables = register.read([schema.ALERTES, "Divers"])
    assert tables[schema.ALERTES].headers == list(schema.COLUMNS[schema.ALERTES])
    assert tables[schema.ALERTES].rows == []
    assert tables["Divers"].headers == []
    assert sheets.requests == Counter({"get_metadata": 1})


def test_read_recovers_when_a_tab_was_deleted(
    ready: GoogleSheetsRegister, sheets: SheetsEmulator, key: str
) -> None:
    ready.read(schema.TABS)
    state = sheets.spreadsheet(key)
    state.sheets.remove(sheets.sheet(key, schema.ETAT))
    tables = ready.read(schema.TABS)
    assert tables[schema.ETAT].rows == []
    assert len(tables[schema.MODELES].rows) == len(default_template_rows())


# --- write ----------------------------------------------------------------------------------------


def test_write_changes_only_named_cells(
    ready: GoogleSheetsRegister, sheets: SheetsEmulator, key: str
) -> None:
    ready.append(schema.INSCRIPTIONS, [
        {"nom": "A", "telephone": "0612345678"}, {"nom": "B", "telephone": "0712345678"},
    ])
    # staff put a number and a formula in sender columns between the ones we write
    ws = local_client(sheets.base_url).open_by_key(key).worksheet(schema.INSCRIPTIONS)
    ws.update([["=2*3", "48095"]], "L2", value_input_option="USER_ENTERED")
    ready.read([schema.INSCRIPTIONS])
    sheets.reset_counts()

    count = ready.write([
        CellChange(schema.INSCRIPTIONS, 2, "statut", "actif"),
        CellChange(schema.INSCRIPTIONS, 2, "remarque", "=HYPERLINK(\"http://x\")"),
        CellChange(schema.INSCRIPTIONS, 3, "numero", "0612345678"),
    ])

    assert count == 3
    # where the rows are now (the id column), then the write
    assert sheets.requests == Counter({"values_batch_get": 1, "values_batch_update": 1})
    rows = sheets.values(key, schema.INSCRIPTIONS)
    header = rows[0]
    row2 = dict(zip(header, rows[1], strict=False))
    assert row2["statut"] == "actif"
    assert row2["remarque"] == "'=HYPERLINK(\"http://x\")"
    assert row2["nom"] == "A"
    raw = sheets.sheet(key, schema.INSCRIPTIONS).rows
    numero, insee = header.index("numero"), header.index("code_insee")
    assert isinstance(raw[1][numero], Cell) and raw[1][numero].formula == "=2*3"
    assert isinstance(raw[1][insee], Cell) and raw[1][insee].value == 48095
    # RAW: the phone written by the sender stays text, with its 0
    assert raw[2][numero] == "0612345678"


def test_empty_write_sends_nothing(register: GoogleSheetsRegister,
                                   sheets: SheetsEmulator) -> None:
    assert register.write([]) == 0
    assert register.write(iter(())) == 0
    assert sheets.total_requests == 0


@pytest.mark.slow
def test_write_of_ten_thousand_rows_is_one_update(
    sheets: SheetsEmulator, make, key: str
) -> None:
    columns = list(schema.COLUMNS[schema.INSCRIPTIONS])
    rows = [columns] + [
        [str(i), "", "formulaire", f"Nom {i}", "", "", "Mende", f"06{i:08d}"]
        for i in range(1, 10_001)
    ]
    sheets.create_spreadsheet(key, {schema.INSCRIPTIONS: rows})
    register = make()
    table = register.read([schema.INSCRIPTIONS])[schema.INSCRIPTIONS]
    assert len(table.rows) == 10_000
    changes = []
    for row in table.rows:
        changes.append(CellChange(schema.INSCRIPTIONS, row.key, "statut", "actif"))
        changes.append(CellChange(schema.INSCRIPTIONS, row.key, "numero",
                                  "+33" + row.get("telephone")[1:]))
        if row.key % 3 == 0:  # irregular spans: several ranges, still one request
            changes.append(CellChange(schema.INSCRIPTIONS, row.key, "remarque", "vérifié"))
    sheets.reset_counts()

    written = register.write(changes)

    assert written == len(changes)
    assert sheets.requests == Counter({"values_batch_get": 1, "values_batch_update": 1})
    stored = sheets.values(key, schema.INSCRIPTIONS)
    statut = columns.index("statut")
    assert stored[9_998][statut:statut + 2] == ["actif", "+33600009998"]  # sheet row 9999
    assert stored[9_998][columns.index("remarque")] == "vérifié"
    assert stored[10_000][statut:statut + 2] == ["actif", "+33600010000"]
    assert len(stored[10_000]) == statut + 2  # row 10001 got no remarque


def test_write_rejects_unknown_column_in_french(
    ready: GoogleSheetsRegister, sheets: SheetsEmulator
) -> None:
    with pytest.raises(RegisterError, match="La colonne « inconnue » manque"):
        ready.write([CellChange(schema.INSCRIPTIONS, 2, "inconnue", "x")])
    with pytest.raises(RegisterError, match="L'onglet « Nulle part » n'existe pas"):
        ready.write([CellChange("Nulle part", 2, "x", "x")])
    assert writes(sheets) == Counter()


# --- append ---------------------------------------------------------------------------------------


def test_append_returns_keys_assigns_ids_and_keeps_text(
    ready: GoogleSheetsRegister, sheets: SheetsEmulator, key: str
) -> None:
    ready.read([schema.ETAT])  # warm metadata (initialise invalidates it)
    sheets.reset_counts()
    keys = ready.append(schema.INSCRIPTIONS, [
        {"nom": "Martin", "telephone": "0612345678", "inconnue": "ignorée"},
        {"nom": "@SUM(A1)", "telephone": "+33612345678", "id": "41"},
        {"nom": "Roux", "telephone": "06 12 34 56 78"},
    ])

    assert keys == [2, 3, 4]
    assert sheets.requests == Counter({"values_batch_get": 1, "values_append": 1})
    table = ready.read([schema.INSCRIPTIONS])[schema.INSCRIPTIONS]
    assert [r.key for r in table.rows] == keys
    assert [r.get("id") for r in table.rows] == ["1", "41", "42"]
    assert [r.get("telephone") for r in table.rows] == [
        "0612345678", neutralise("+33612345678"), "06 12 34 56 78"
    ]
    assert table.rows[1].get("nom") == "'@SUM(A1)"
    raw = sheets.sheet(key, schema.INSCRIPTIONS).rows
    assert raw[1][7] == "0612345678"  # stored as a string, not a number

    assert ready.append(schema.DESINSCRIPTIONS, [{"telephone": "0612345678"}]) == [2]


def test_phone_column_stays_text_for_user_entered_input(
    ready: GoogleSheetsRegister, sheets: SheetsEmulator, key: str
) -> None:
    """Apps Script's appendRow parses input like USER_ENTERED; the TEXT format protects phones."""
    sh = local_client(sheets.base_url).open_by_key(key)
    sh.values_append(f"{schema.INSCRIPTIONS}!A1", {"valueInputOption": "USER_ENTERED"},
                     {"values": [["7", "", "formulaire", "Nom", "", "", "Mende", "0612345678"]]})
    (row,) = ready.read([schema.INSCRIPTIONS])[schema.INSCRIPTIONS].rows
    assert row.get("telephone") == "0612345678"


def test_append_to_missing_tab_creates_the_structure(
    register: GoogleSheetsRegister, sheets: SheetsEmulator, key: str
) -> None:
    assert register.append(schema.ALERTES, [{"type": "vol", "commune": "Mende"}]) == [2]
    assert sheets.values(key, schema.ALERTES)[1][:5] == ["1", "", "", "", "vol"]
    assert len(sheets.values(key, schema.MODELES)) == 1  # no templates from append


# --- retries and failures -------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 503])
def test_read_retries_on_transient_errors(
    ready: GoogleSheetsRegister, sheets: SheetsEmulator, sleeps: list[float], status: int
) -> None:
    ready.read(schema.TABS)
    sheets.fail_next(2, status=status)
    tables = ready.read(schema.TABS)
    assert len(tables[schema.MODELES].rows) == len(default_template_rows())
    assert sum(sheets.faulted.values()) == 2
    assert len(sleeps) == 2


def test_write_retries_after_dropped_connection(
    ready: GoogleSheetsRegister, sheets: SheetsEmulator, key: str, sleeps: list[float]
) -> None:
    ready.append(schema.INSCRIPTIONS, [{"nom": "A"}])
    ready.read([schema.INSCRIPTIONS])
    sheets.drop_next(1, kinds={"values_batch_update"})
    assert ready.write([CellChange(schema.INSCRIPTIONS, 2, "statut", "actif")]) == 1
    assert sheets.faulted == Counter({"values_batch_update": 1})
    statut = schema.COLUMNS[schema.INSCRIPTIONS].index("statut")
    assert sheets.values(key, schema.INSCRIPTIONS)[1][statut] == "actif"
    assert len(sleeps) == 1


@pytest.mark.slow
def test_read_retries_after_timeout(
    sheets: SheetsEmulator, make, sleeps: list[float]
) -> None:
    register = make(timeout=1.0)
    register.initialise()
    register.read(schema.TABS)
    sheets.reset_counts()
    sheets.delay_next(1, 4.0, kinds={"values_batch_get"})
    tables = register.read(schema.TABS)
    assert len(tables[schema.MODELES].rows) == len(default_template_rows())
    assert sheets.delayed == Counter({"values_batch_get": 1})
    assert sheets.requests["values_batch_get"] >= 2
    assert len(sleeps) >= 1


@pytest.mark.slow
def test_append_after_timeout_does_not_duplicate(
    sheets: SheetsEmulator, make, key: str
) -> None:
    register = make(timeout=1.0)
    register.initialise()
    sheets.delay_next(1, 4.0, kinds={"values_append"})
    keys = register.append(schema.INSCRIPTIONS, [{"nom": "Unique", "telephone": "0611111111"}])
    assert keys == [2]
    rows = sheets.values(key, schema.INSCRIPTIONS)
    assert [r[3] for r in rows[1:]] == ["Unique"]
    assert sheets.requests["values_append"] == 1


def test_append_after_dropped_connection_appends_once(
    ready: GoogleSheetsRegister, sheets: SheetsEmulator, key: str
) -> None:
    sheets.drop_next(1, kinds={"values_append"})
    assert ready.append(schema.INSCRIPTIONS, [{"nom": "Une fois"}]) == [2]
    assert [r[3] for r in sheets.values(key, schema.INSCRIPTIONS)[1:]] == ["Une fois"]


def test_gives_up_after_max_attempts_with_french_message(
    sheets: SheetsEmulator, make, sleeps: list[float]
) -> None:
    register = make(max_attempts=4, base_delay=1.0, max_delay=3.0)
    sheets.fail_next(10, status=429)
    with pytest.raises(RegisterUnavailable) as info:
        register.read(schema.TABS)
    message = info.value.message
    assert message == (
        "Google Sheets refuse les requêtes (quota dépassé) après 4 tentatives ; nouvel essai "
        "au prochain passage."
    )
    assert info.value.retryable
    assert sheets.faulted == Counter({"get_metadata": 4})
    # exponential backoff with jitter, capped: ceilings 1, 2, 3
    assert len(sleeps) == 3
    for delay, ceiling in zip(sleeps, (1.0, 2.0, 3.0), strict=True):
        assert ceiling / 2 <= delay <= ceiling


def test_gives_up_on_server_errors_and_network(
    sheets: SheetsEmulator, make
) -> None:
    sheets.fail_next(3, status=503)
    with pytest.raises(RegisterUnavailable, match=r"indisponible \(erreur 503\) après 3"):
        make(max_attempts=3).initialise()
    sheets.clear_faults()
    sheets.drop_next(2)
    with pytest.raises(RegisterUnavailable, match="ne répond pas"):
        make(max_attempts=2).read(schema.TABS)


def test_random_faults_are_absorbed(sheets: SheetsEmulator, make, key: str) -> None:
    register = make(max_attempts=12, base_delay=0.0)
    sheets.faults(rate_429=0.25, rate_5xx=0.15, rate_drop=0.05, seed=7)
    register.initialise()
    keys = register.append(schema.INSCRIPTIONS, [{"nom": f"N{i}"} for i in range(20)])
    register.read(schema.TABS)
    register.write([CellChange(schema.INSCRIPTIONS, k, "statut", "actif") for k in keys])
    tables = register.read(schema.TABS)
    sheets.clear_faults()
    rows = tables[schema.INSCRIPTIONS].rows
    assert [r.get("nom") for r in rows] == [f"N{i}" for i in range(20)]
    assert {r.get("statut") for r in rows} == {"actif"}
    assert sum(sheets.faulted.values()) > 0


def test_forbidden_and_missing_sheets_are_french_errors(
    sheets: SheetsEmulator, make, key: str
) -> None:
    sheets.set_access(key, False)
    with pytest.raises(RegisterError, match="partagez-la") as info:
        make().read(schema.TABS)
    assert not isinstance(info.value, RegisterUnavailable)
    missing = GoogleSheetsRegister("1" + "x" * 40, local_client(sheets.base_url))
    with pytest.raises(RegisterError, match="introuvable"):
        missing.initialise()


# --- construction ---------------------------------------------------------------------------------


KEY = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcd"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"https://docs.google.com/spreadsheets/d/{KEY}/edit#gid=0", KEY),
        (f"  https://docs.google.com/spreadsheets/d/{KEY}  ", KEY),
        (KEY, KEY),
        ("data/registre.sqlite", None),
        ("/var/lib/alerte/registre.sqlite", None),
        ("registre", None),
        ("", None),
        (None, None),
        ("https://example.org/spreadsheets/d/abc", None),
    ],
)
def test_parse_sheet_key(text: str | None, expected: str | None) -> None:
    assert parse_sheet_key(text) == expected


def test_describe_is_french(register: GoogleSheetsRegister, key: str) -> None:
    assert register.describe() == f"Google Sheet {key[:8]}… (Google Sheets)"
    register.read([schema.ETAT])
    assert "(Google Sheets)" in register.describe()


def test_from_service_account_reports_bad_files_in_french(tmp_path) -> None:
    with pytest.raises(ConfigurationError, match="introuvable"):
        GoogleSheetsRegister.from_service_account(KEY, str(tmp_path / "absent.json"))
    broken = tmp_path / "compte.json"
    broken.write_text(json.dumps({"type": "service_account"}), encoding="utf-8")
    with pytest.raises(ConfigurationError, match="compte de service"):
        GoogleSheetsRegister.from_service_account(KEY, str(broken))


def test_ranges_merge_rows_when_nulls_are_cheaper() -> None:
    from sender.register.sheets.a1 import cell_ranges as _ranges

    near = _ranges("Inscriptions", {2: {9: "a"}, 3: {9: "b", 13: "c"}, 4: {10: "d"}})
    assert near == [{
        "range": "'Inscriptions'!J2:N4",
        "majorDimension": "ROWS",
        "values": [["a", None, None, None, None], ["b", None, None, None, "c"],
                   [None, "d", None, None, None]],
    }]
    far = _ranges("Alertes", {2: {0: "x"}, 3: {21: "y"}, 5: {21: "z"}})
    assert [r["range"] for r in far] == ["'Alertes'!A2:A2", "'Alertes'!V3:V3", "'Alertes'!V5:V5"]

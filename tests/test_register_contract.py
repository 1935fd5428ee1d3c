"""One behavioural contract, run against every register backend (SQLite file, Google Sheets)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from sender import schema
from sender.errors import RegisterError
from sender.register.base import Register
from sender.register.defaults import default_template_rows
from sender.register.sqlite import SQLiteRegister
from sender.tables import CellChange
from sender.text import neutralise
from support.emulators.sheets import SheetsEmulator
from support.scenario import sheets_register


@dataclass
class Backend:
    register: Register
    add_column: Callable[[str, str], None]  # what staff do by hand: a new column at the end


def _sqlite_backend(tmp_path) -> Backend:
    path = tmp_path / "r.sqlite"
    register = SQLiteRegister(path)

    def add_column(tab: str, name: str) -> None:
        register.close()
        with sqlite3.connect(path) as conn:
            conn.execute(f'ALTER TABLE "{tab}" ADD COLUMN "{name}" TEXT NOT NULL DEFAULT \'\'')

    return Backend(register, add_column)


def _gsheets_backend(sheets: SheetsEmulator) -> Backend:

    register, key = sheets_register(sheets)

    def add_column(tab: str, name: str) -> None:
        width = len(sheets.values(key, tab)[0])
        sheets.set_values(key, tab, [[name]], start_row=1, start_col=width + 1)

    return Backend(register, add_column)


@pytest.fixture(params=["sqlite", "gsheets"])
def backend(request, tmp_path) -> Iterator[Backend]:
    if request.param == "sqlite":
        made = _sqlite_backend(tmp_path)
    else:
        made = _gsheets_backend(request.getfixturevalue("sheets"))
    yield made
    made.register.close()


PEOPLE = [
    {"nom": "Martin", "entreprise": "Boulangerie du Lot", "commune": "Mende",
     "telephone": "0612345678", "source": "formulaire"},
    {"nom": "Durand", "commune": "Marvejols", "telephone": "+33 6 98 76 54 32",
     "source": "import", "id": "41"},
    {"nom": "Roux", "commune": "Florac Trois Rivières", "telephone": "06.11.22.33.44"},
]


def _everything(register: Register) -> dict[str, list[dict[str, str]]]:
    return {tab: table.as_dicts() for tab, table in register.read(schema.TABS).items()}


def test_read_before_initialise_gives_empty_tabs(backend: Backend) -> None:
    tables = backend.register.read([schema.ALERTES, schema.INSCRIPTIONS])
    assert tables[schema.ALERTES].rows == []
    assert tables[schema.ALERTES].headers == list(schema.COLUMNS[schema.ALERTES])
    assert tables[schema.INSCRIPTIONS].rows == []


def test_initialise_creates_all_tabs_headers_and_templates(backend: Backend) -> None:
    report = backend.register.initialise()

    assert report.changed
    assert sorted(report.created_tabs) == sorted(schema.TABS)
    tables = backend.register.read(schema.TABS)
    for tab, columns in schema.COLUMNS.items():
        assert tables[tab].headers == list(columns)
    templates = tables[schema.MODELES].as_dicts()
    expected = [
        {h: neutralise(row.get(h, "")) for h in schema.COLUMNS[schema.MODELES]}
        for row in default_template_rows()
    ]
    assert templates == expected
    for tab in schema.TABS:
        if tab != schema.MODELES:
            assert tables[tab].rows == []


def test_initialise_is_idempotent(backend: Backend) -> None:
    backend.register.initialise()
    backend.register.append(schema.INSCRIPTIONS, PEOPLE)
    before = _everything(backend.register)

    again = backend.register.initialise()

    assert not again.changed
    assert again.created_tabs == again.added_columns == again.added_rows == []
    assert _everything(backend.register) == before


def test_append_then_read_returns_rows_in_order_as_text(backend: Backend) -> None:
    backend.register.initialise()

    keys = backend.register.append(schema.INSCRIPTIONS, PEOPLE)
    more = backend.register.append(schema.INSCRIPTIONS, [{"nom": "Vidal"}])

    table = backend.register.read([schema.INSCRIPTIONS])[schema.INSCRIPTIONS]
    assert len(set(keys + more)) == 4
    assert [row.key for row in table.rows] == keys + more
    assert [row.get("nom") for row in table.rows] == ["Martin", "Durand", "Roux", "Vidal"]
    # ids: fresh integers for empty ones, given ones kept
    assert [row.get("id") for row in table.rows] == ["1", "41", "42", "43"]
    assert [row.get("telephone") for row in table.rows] == [
        "0612345678", neutralise("+33 6 98 76 54 32"), "06.11.22.33.44", ""
    ]
    assert table.rows[0].get("entreprise") == "Boulangerie du Lot"
    for row in table.rows:
        assert set(row.values) == set(schema.COLUMNS[schema.INSCRIPTIONS])
        assert all(isinstance(value, str) for value in row.values.values())


def test_append_to_a_tab_without_id(backend: Backend) -> None:
    backend.register.initialise()
    keys = backend.register.append(
        schema.DESINSCRIPTIONS, [{"telephone": "0612345678", "source": "formulaire"}]
    )
    (row,) = backend.register.read([schema.DESINSCRIPTIONS])[schema.DESINSCRIPTIONS].rows
    assert row.key == keys[0]
    assert row.values == {
        "horodatage": "", "telephone": "0612345678", "source": "formulaire", "confirme_le": "",
        "traite": "",
    }


def test_write_changes_only_the_named_cells(backend: Backend) -> None:
    register = backend.register
    register.initialise()
    keys = register.append(schema.INSCRIPTIONS, PEOPLE)
    before = register.read([schema.INSCRIPTIONS])[schema.INSCRIPTIONS].as_dicts()

    written = register.write([
        CellChange(schema.INSCRIPTIONS, keys[0], "statut", "actif"),
        CellChange(schema.INSCRIPTIONS, keys[0], "numero", "+33612345678"),
        CellChange(schema.INSCRIPTIONS, keys[2], "remarque", "commune déléguée : Florac"),
    ])

    assert written == 3
    after = register.read([schema.INSCRIPTIONS])[schema.INSCRIPTIONS].as_dicts()
    before[0]["statut"] = "actif"
    before[0]["numero"] = neutralise("+33612345678")
    before[2]["remarque"] = "commune déléguée : Florac"
    assert after == before
    assert register.write([]) == 0


def test_write_to_an_unknown_column_is_refused(backend: Backend) -> None:
    backend.register.initialise()
    (key,) = backend.register.append(schema.INSCRIPTIONS, PEOPLE[:1])
    with pytest.raises(RegisterError) as info:
        backend.register.write([CellChange(schema.INSCRIPTIONS, key, "pas_une_colonne", "x")])
    assert "pas_une_colonne" in info.value.message
    (row,) = backend.register.read([schema.INSCRIPTIONS])[schema.INSCRIPTIONS].rows
    assert row.get("nom") == "Martin"


def test_unknown_columns_are_preserved(backend: Backend) -> None:
    register = backend.register
    register.initialise()
    keys = register.append(schema.INSCRIPTIONS, PEOPLE[:2])
    backend.add_column(schema.INSCRIPTIONS, "suivi_cma")

    register.write([CellChange(schema.INSCRIPTIONS, keys[1], "suivi_cma", "rappeler lundi")])
    register.append(schema.INSCRIPTIONS, [{"nom": "Vidal", "suivi_cma": "nouveau"}])
    report = register.initialise()
    register.write([CellChange(schema.INSCRIPTIONS, keys[0], "statut", "actif")])

    assert not report.changed
    table = register.read([schema.INSCRIPTIONS])[schema.INSCRIPTIONS]
    assert table.headers == [*schema.COLUMNS[schema.INSCRIPTIONS], "suivi_cma"]
    assert [row.get("suivi_cma") for row in table.rows] == ["", "rappeler lundi", "nouveau"]
    assert table.rows[0].get("statut") == "actif"


@pytest.mark.parametrize(
    "text",
    ["=HYPERLINK(\"http://exemple.test\";\"clic\")", "+cmd|' /C calc'!A0", "-2+3*cmd", "@SUM(A1)",
     "\t=1+1"],
)
def test_formula_text_is_stored_neutralised(backend: Backend, text: str) -> None:
    register = backend.register
    register.initialise()
    (key,) = register.append(schema.INSCRIPTIONS, [{"nom": text, "telephone": "0612345678"}])
    register.write([CellChange(schema.INSCRIPTIONS, key, "remarque", text)])

    (row,) = register.read([schema.INSCRIPTIONS])[schema.INSCRIPTIONS].rows
    assert row.get("nom") == neutralise(text)
    assert row.get("remarque") == neutralise(text)
    assert row.get("nom").startswith("'")


def test_delete_rows_removes_the_rows_read_and_nothing_else(backend):
    register = backend.register
    register.initialise()
    register.append(schema.INSCRIPTIONS, [{"nom": name, "telephone": f"+3361111111{i}"}
                                          for i, name in enumerate(("Alice", "Bruno", "Chloé"))])
    rows = register.read([schema.INSCRIPTIONS])[schema.INSCRIPTIONS].rows
    bruno = [r.key for r in rows if r.get("nom") == "Bruno"]
    assert register.delete_rows(schema.INSCRIPTIONS, bruno) == 1
    assert register.delete_rows(schema.INSCRIPTIONS, bruno) == 0  # gone: never another row
    left = register.read([schema.INSCRIPTIONS])[schema.INSCRIPTIONS].rows
    assert [r.get("nom") for r in left] == ["Alice", "Chloé"]
    assert register.delete_rows(schema.DESINSCRIPTIONS, []) == 0

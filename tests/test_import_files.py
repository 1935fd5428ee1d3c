"""Imports of real files from tests/data/ (made by `python -m support.hostile_files`): every
encoding a spreadsheet writes, broken quoting, huge cells, stale XLSX dimensions and a zip bomb.
An import adds all rows or none, and importing the same file again adds nothing."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from sender import operations, schema
from sender.errors import InputError
from sender.register.files import read_table
from sender.register.sheets.client import GoogleSheetsRegister
from sender.register.sqlite import SQLiteRegister
from support.emulators.sheets import SheetsEmulator
from support.hostile_files import members
from support.scenario import alerte_message_bin, sheets_register, subprocess_env

DATA = Path(__file__).parent / "data"
COLUMNS = ("nom", "entreprise", "activite", "commune", "telephone", "horodatage")


def count(register: SQLiteRegister | GoogleSheetsRegister, tab: str = schema.INSCRIPTIONS) -> int:
    return len(register.read([tab])[tab].rows)


@pytest.fixture
def register(tmp_path: Path) -> SQLiteRegister:
    register = SQLiteRegister(tmp_path / "registre.sqlite")
    register.initialise()
    return register


@pytest.mark.parametrize("name", [
    "inscriptions-utf8.csv", "inscriptions-utf8-bom.csv", "inscriptions-cp1252.csv",
    "inscriptions-texte-unicode.txt",
])
def test_every_encoding_a_spreadsheet_writes_is_read(name: str) -> None:
    rows = read_table(DATA / name, COLUMNS)
    expected = [dict(zip(("nom", "entreprise", "activite", "commune", "telephone"), r,
                         strict=True)) for r in members(5)]
    assert rows == expected
    assert rows[0]["nom"] == "Adhérente 0 Hélène" and rows[4]["commune"] == "Saint-Chély-d'Apcher"


def test_a_quote_that_swallows_lines_is_reported_with_its_lines(register: SQLiteRegister) -> None:
    with pytest.raises(InputError) as caught:
        operations.import_file(register, DATA / "inscriptions-guillemet-ouvert.csv")
    message = caught.value.message
    assert "ligne 3" in message and "refermé qu'à la ligne 50" in message
    assert "lignes 4 à 50" in message and "Rien n'a été importé" in message
    assert count(register) == 0


def test_a_field_over_the_csv_limit_gives_a_french_error(register: SQLiteRegister) -> None:
    with pytest.raises(InputError) as caught:
        operations.import_file(register, DATA / "inscriptions-champ-enorme.csv")
    assert "ligne 3" in caught.value.message and "131 072 caractères" in caught.value.message
    assert count(register) == 0


def test_a_long_cell_in_the_middle_refuses_the_whole_file(
    register: SQLiteRegister, tmp_path: Path
) -> None:
    rows = [";".join(r) for r in members(40)]
    rows[29] = rows[29].replace("Boulangerie", "B" * 6000, 1)
    path = tmp_path / "liste.csv"
    path.write_text("nom;entreprise;activite;commune;telephone\n" + "\n".join(rows), "utf-8")
    with pytest.raises(InputError, match="ligne 31 : une cellule compte 6"):
        operations.import_file(register, path)
    assert count(register) == 0


@pytest.mark.parametrize(("name", "rows"), [
    ("inscriptions-dimension-perimee-10.xlsx", 10),
    ("inscriptions-dimension-perimee-1000.xlsx", 1000),
])
def test_a_stale_xlsx_dimension_hides_no_row(register: SQLiteRegister, name: str,
                                             rows: int) -> None:
    report = operations.import_file(register, DATA / name)
    assert report.added == rows and count(register) == rows
    assert report.rows[-1]["nom"] == f"Adhérente {rows - 1} Hélène"


def test_the_zip_bomb_is_refused_before_it_is_opened(register: SQLiteRegister) -> None:
    with pytest.raises(InputError) as caught:
        operations.import_file(register, DATA / "inscriptions-bombe.xlsx")
    assert "refusé" in caught.value.message and "Rien n'a été importé" in caught.value.message
    assert count(register) == 0


def test_a_long_text_run_inside_sane_sizes_is_refused(register: SQLiteRegister,
                                                      tmp_path: Path) -> None:
    import zipfile

    source = zipfile.ZipFile(DATA / "inscriptions-dimension-perimee-10.xlsx")
    path = tmp_path / "espaces.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as target:  # stored: ratio 1
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(b"</sheetData>", b" " * 300_000 + b"</sheetData>")
            target.writestr(item.filename, content)
    with pytest.raises(InputError, match="caractères d'un seul tenant"):
        operations.import_file(register, path)
    assert count(register) == 0


def test_importing_the_same_file_twice_adds_nothing(register: SQLiteRegister,
                                                    tmp_path: Path) -> None:
    path = tmp_path / "liste.csv"
    shutil.copy(DATA / "inscriptions-cp1252.csv", path)
    with path.open("a", encoding="cp1252") as handle:  # the same member twice in the file
        handle.write("Adhérente 0 Hélène;Boulangerie n° 0;Alimentation;Mende;06 00 00 00 10\r\n")
    first = operations.import_file(register, path)
    assert (first.added, first.already) == (6, 0)
    second = operations.import_file(register, path)
    assert (second.added, second.already) == (0, 6)
    assert count(register) == 6
    assert [r["statut"] for r in second.as_json()] == [r["statut"] for r in first.as_json()]


def test_an_import_interrupted_after_appending_is_not_duplicated_on_retry(
    register: SQLiteRegister, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(operations, "_clean", crash)
        with pytest.raises(KeyboardInterrupt):
            operations.import_file(register, DATA / "inscriptions-utf8.csv")
    assert count(register) == 5
    again = operations.import_file(register, DATA / "inscriptions-utf8.csv")
    assert (again.added, again.already) == (0, 5)
    assert count(register) == 5


def test_alerts_imported_twice_are_not_added_once_sent(register: SQLiteRegister,
                                                        tmp_path: Path) -> None:
    path = tmp_path / "alertes.csv"
    path.write_text("id;service;agent;type;description;cible_zone;statut\n"
                    "7;Gendarmerie;G48001;prévention;Faux billets;toutes;à diffuser\n", "utf-8")
    operations.import_file(register, path, tab=schema.ALERTES)
    row = register.read([schema.ALERTES])[schema.ALERTES].rows[0]
    from sender.tables import CellChange

    register.write([CellChange(schema.ALERTES, row.key, "statut", schema.DIFFUSEE)])
    again = operations.import_file(register, path, tab=schema.ALERTES)
    assert (again.added, again.already) == (0, 1)
    assert count(register, schema.ALERTES) == 1


def test_idempotent_import_on_google_sheets(sheets: SheetsEmulator) -> None:
    register, _ = sheets_register(sheets)
    register.initialise()
    first = operations.import_file(register, DATA / "inscriptions-texte-unicode.txt")
    second = operations.import_file(register, DATA / "inscriptions-texte-unicode.txt")
    assert (first.added, second.added, second.already) == (5, 0, 5)
    assert count(register) == 5


@pytest.mark.slow
def test_the_cli_reports_rows_already_there(tmp_path: Path) -> None:
    path = tmp_path / "registre.sqlite"
    env = subprocess_env(tmp_path, str(path))
    subprocess.run([alerte_message_bin(), "initialiser"], env=env, check=True,
                   capture_output=True, timeout=60)
    command = [alerte_message_bin(), "importer", str(DATA / "inscriptions-utf8-bom.csv")]
    first = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert first.returncode == 0, first.stderr
    assert "5 lignes importées" in first.stderr
    second = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert second.returncode == 0, second.stderr
    assert "0 ligne importée" in second.stderr
    assert "5 lignes déjà présentes dans le registre, non ajoutées" in second.stderr

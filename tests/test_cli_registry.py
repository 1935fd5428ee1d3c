"""The CLI on the local register: initialiser, importer (CSV, XLSX, --json), exporter, help."""

import json
import re
import subprocess
import sys

import pytest
from openpyxl import Workbook

from sender.cli import main


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("ALERTE_REGISTRE", str(tmp_path / "registre.sqlite"))
    monkeypatch.setenv("ALERTE_JOURNAL", str(tmp_path / "journal.sqlite"))
    return tmp_path


def run(capsys, *args):
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_import_csv_json_gives_one_object_per_input_row_in_order(env, capsys):
    (env / "liste.csv").write_text(
        "nom;entreprise;activité;commune;Téléphone\n"
        "Anne;Boulangerie;Alimentation;Marvejols;06 12 34 56 78\n"
        "Bruno;Garage;Automobile;Mende;04 66 65 00 00\n"
        "Chloé;Coiffure;Coiffure;Florac;+33 6 12 34 56 78\n"
        "Denis;Bar;Café;Langogne;pas de numéro\n",
        encoding="utf-8",
    )
    assert run(capsys, "initialiser")[0] == 0
    code, out, _ = run(capsys, "importer", str(env / "liste.csv"), "--json")
    assert code == 0
    data = json.loads(out)
    assert [d["telephone"] for d in data] == [
        "06 12 34 56 78", "04 66 65 00 00", "+33 6 12 34 56 78", "pas de numéro"]
    assert [d["statut"] for d in data] == ["actif", "invalide", "doublon", "invalide"]
    assert data[0]["numero"] == "+33612345678" and data[3]["numero"] is None
    assert all(set(d) == {"telephone", "statut", "numero", "remarque"} for d in data)


def test_import_xlsx_with_numbers_that_lost_their_zero(env, capsys):
    book = Workbook()
    sheet = book.active
    sheet.append(["nom", "entreprise", "activite", "commune", "telephone"])
    sheet.append(["Anne", "Boulangerie", "Alimentation", "Mende", 612345678])
    book.save(env / "liste.xlsx")
    run(capsys, "initialiser")
    code, out, _ = run(capsys, "importer", str(env / "liste.xlsx"), "--json")
    assert code == 0
    assert json.loads(out)[0]["numero"] == "+33612345678"


def test_second_clean_writes_nothing(env, capsys):
    (env / "l.csv").write_text("telephone,commune\n0612345678,Mende\n", encoding="utf-8")
    run(capsys, "initialiser")
    run(capsys, "importer", str(env / "l.csv"))
    code, _, err = run(capsys, "nettoyer")
    assert code == 0 and "aucune écriture" in err


def test_export_json_keys_are_the_tab_headers(env, capsys):
    run(capsys, "initialiser")
    code, out, _ = run(capsys, "exporter", "--onglet", "modeles", "--json")
    rows = json.loads(out)
    assert code == 0 and rows
    assert set(rows[0]) == {"type", "canal", "modele_whatsapp", "langue", "texte"}


def test_bad_file_gives_french_error(env, capsys):
    (env / "x.pdf").write_text("x")
    run(capsys, "initialiser")
    code, _, err = run(capsys, "importer", str(env / "x.pdf"))
    assert code == 1 and "Format non pris en charge" in err


@pytest.mark.parametrize("command", [[], *([c] for c in (
    "initialiser", "nettoyer", "importer", "exporter", "verifier", "apercu", "envoyer",
    "surveiller", "servir", "demarrer", "statistiques", "rapport"))])
def test_help_is_french_with_an_example(command):
    result = subprocess.run(
        [sys.executable, "-m", "sender", *command, "--help"],
        capture_output=True, text=True, check=True,
    )
    assert "Utilisation" in result.stdout
    assert "Exemple" in result.stdout
    assert "show this help" not in result.stdout


def test_apercu_shows_the_signed_message_a_member_reads(env, capsys):
    from pathlib import Path

    examples = Path(__file__).resolve().parent.parent / "exemples"
    run(capsys, "initialiser")
    run(capsys, "importer", "--onglet", "Habilitations", str(examples / "habilitations.csv"))
    run(capsys, "importer", "--onglet", "Alertes", str(examples / "alerte-prevention.csv"))
    code, out, _ = run(capsys, "apercu", "1")
    assert code == 0
    assert "Ce que lit l'adhérent" in out
    whatsapp = out.split("Ce que lit l'adhérent :")[1]
    assert whatsapp.lstrip().startswith("PRÉVENTION\nDes faux billets de 50 euros")
    assert "Réseau Alerte Message" in whatsapp.split("──")[0]
    assert out.count("Réseau Alerte Message") == 2  # WhatsApp and SMS


def test_every_declared_command_is_listed_in_order_with_its_handler():
    from sender.cli import ORDER, build_parser
    from sender.cli.common import COMMANDS

    parser = build_parser()
    subcommands = next(a for a in parser._actions if a.dest == "commande")
    assert list(subcommands.choices) == list(ORDER)
    assert set(ORDER) == set(COMMANDS)
    for name, sub in subcommands.choices.items():
        assert sub.get_default("handler") is COMMANDS[name].handler
    listed = parser.format_help()
    positions = [re.search(rf"\n    {re.escape(name)}\s", listed).start() for name in ORDER]
    assert positions == sorted(positions)


def test_a_command_declared_twice_is_refused():
    from sender.cli.common import command

    with pytest.raises(ValueError, match="declared twice"):
        command("nettoyer", "résumé", "alerte-message nettoyer")(lambda args, settings: 0)


@pytest.mark.parametrize("command", [["exporter", "--onglet", "Alertes"], ["verifier"],
                                     ["envoyer"], ["nettoyer"], ["statistiques"]])
def test_a_command_run_from_the_wrong_folder_creates_nothing_and_says_where_it_looked(
    tmp_path, monkeypatch, capsys, command
):
    monkeypatch.delenv("ALERTE_REGISTRE", raising=False)
    monkeypatch.delenv("ALERTE_JOURNAL", raising=False)
    monkeypatch.setenv("ALERTE_DOSSIER", str(tmp_path / "ailleurs"))
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, *command)
    looked = tmp_path / "ailleurs" / "data" / "registre.sqlite"
    assert code == 1
    assert "Aucun registre à" in err and str(looked) in err.replace("\n", "")
    assert "Rien n'a été créé" in err
    assert not (tmp_path / "ailleurs").exists() and not (tmp_path / "data").exists()


def test_every_path_is_under_the_home_folder_and_commands_say_which_they_use(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.delenv("ALERTE_REGISTRE", raising=False)
    monkeypatch.delenv("ALERTE_JOURNAL", raising=False)
    home = tmp_path / "installation"
    monkeypatch.setenv("ALERTE_DOSSIER", str(home))
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "initialiser")[0] == 0
    code, _, err = run(capsys, "verifier")
    assert code == 0
    flat = err.replace("\n", "")
    assert f"Registre : {home / 'data' / 'registre.sqlite'}" in flat
    assert f"journal : {home / 'data' / 'journal.sqlite'}" in flat
    assert (home / "data" / "registre.sqlite").exists() and not (tmp_path / "data").exists()


def test_statistiques_writes_its_figures_under_the_home_folder(tmp_path, monkeypatch, capsys):
    for name in ("ALERTE_REGISTRE", "ALERTE_JOURNAL", "ALERTE_STATISTIQUES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ALERTE_DOSSIER", str(tmp_path / "installation"))
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "initialiser")[0] == 0
    assert run(capsys, "statistiques")[0] == 0
    assert (tmp_path / "installation" / "data" / "statistiques.json").exists()
    assert not (tmp_path / "data").exists()

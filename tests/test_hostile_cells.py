"""A cell another program filled with bytes that are not UTF-8 text affects only its own row.

`tests/data/registre-cellule-illisible.sqlite` is a local register where such a program wrote
Latin-1 bytes into an `Inscriptions` name, an `Inscriptions` phone number, an `Alertes`
description and a `Desinscriptions` phone number (see tests/data/README.md). Every command
keeps working, in French, without ever printing what the cells hold.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from sender import schema
from sender.register.sqlite import SQLiteRegister
from support.scenario import alerte_message_bin, subprocess_env

DATA = Path(__file__).parent / "data"
SECRET = "Secr"  # start of the unreadable cells' text: must never be shown


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    path = tmp_path / "registre.sqlite"
    shutil.copy(DATA / "registre-cellule-illisible.sqlite", path)
    return path


def run(tmp_path: Path, register: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [alerte_message_bin(), "--bavard", *args], env=subprocess_env(tmp_path, str(register)),
        capture_output=True, text=True, timeout=120, check=False,
    )
    shown = result.stdout + result.stderr
    assert SECRET not in shown and "decode" not in shown.lower(), shown
    assert "Traceback" not in shown, shown
    return result


def by_id(register: Path, tab: str) -> dict[str, dict[str, str]]:
    table = SQLiteRegister(register).read([tab])[tab]
    return {row.get("id"): dict(row.values) for row in table.rows}


@pytest.mark.slow
def test_every_command_goes_on_and_only_the_bad_rows_get_a_remark(
    tmp_path: Path, hostile: Path
) -> None:
    cleaned = run(tmp_path, hostile, "nettoyer")
    assert cleaned.returncode == 0, cleaned.stderr
    assert "onglet Inscriptions, ligne 2, colonne nom" in cleaned.stderr
    members = by_id(hostile, schema.INSCRIPTIONS)
    assert members["2"]["statut"] == schema.ACTIF
    assert "cellule illisible (colonne « nom »" in members["2"]["remarque"]
    assert members["3"]["statut"] == schema.INVALIDE
    assert "colonne « telephone »" in members["3"]["remarque"]
    assert (members["1"]["statut"], members["1"]["remarque"]) == (schema.ACTIF, "")
    assert members["4"]["statut"] == schema.ACTIF
    unsubscribed = SQLiteRegister(hostile).read([schema.DESINSCRIPTIONS])
    assert unsubscribed[schema.DESINSCRIPTIONS].rows[0].get("traite").startswith(
        "non traitée : cellule illisible"
    )

    verified = run(tmp_path, hostile, "verifier", "--json")
    assert verified.returncode == 0, verified.stderr
    verdicts = {v["id"]: v for v in json.loads(verified.stdout)}
    assert verdicts["1"]["verdict"] == schema.A_DIFFUSER
    assert verdicts["2"]["verdict"] == schema.REFUSEE
    assert "colonne « description »" in verdicts["2"]["motif"]

    csv = tmp_path / "nouveaux.csv"
    csv.write_text("nom;telephone;commune\nJean Neuf;06 98 76 54 32;Marvejols\n", "utf-8")
    imported = run(tmp_path, hostile, "importer", str(csv))
    assert imported.returncode == 0, imported.stderr
    assert len(by_id(hostile, schema.INSCRIPTIONS)) == 5

    sent = run(tmp_path, hostile, "envoyer", "--une-fois")
    assert sent.returncode == 0, sent.stderr
    alerts = by_id(hostile, schema.ALERTES)
    assert alerts["1"]["statut"] == schema.DIFFUSEE
    assert alerts["2"]["statut"] == schema.REFUSEE
    outbox = [json.loads(line) for line in (tmp_path / "outbox.jsonl").read_text().splitlines()]
    assert sorted(m["recipient"] for m in outbox) == sorted(
        ["+33600000000", "+33600000001", "+33600000003", "+33698765432"]
    )

    exported = run(tmp_path, hostile, "exporter", "--onglet", "Inscriptions", "--json")
    assert exported.returncode == 0, exported.stderr

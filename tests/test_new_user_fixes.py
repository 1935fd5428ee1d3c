"""What a new user tripped on (issue 17, point 6): each fix with its test."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from sender import schema
from sender.alerts.compose import Composer, TemplateProblem
from sender.delivery.signature import sign
from sender.errors import ConfigurationError
from sender.intake.server import make_server
from sender.journal.journal import Journal
from sender.register.sqlite import SQLiteRegister
from sender.runner import Sender
from support.emulators.webhooks import envelope, status_item
from support.scenario import (
    APP_SECRET,
    PHONE_ID,
    ROOT,
    TimedWhatsAppEmulator,
    alerte_message_bin,
    fill,
    prevention_alert,
    quiet_console,
    sqlite_register,
    subprocess_env,
    webhook_receiver,
    whatsapp_settings,
)
from tests.test_alert_compose import make_alert


def run(tmp_path: Path, register: Path, *args: str, cwd: Path | None = None,
        **extra: str) -> subprocess.CompletedProcess[str]:
    env = subprocess_env(tmp_path, str(register), **extra)
    return subprocess.run([alerte_message_bin(), *args], env=env, capture_output=True,
                          text=True, timeout=60, check=False, cwd=cwd or tmp_path)


@pytest.mark.slow
def test_statistiques_writes_where_alerte_statistiques_says_and_says_where(tmp_path: Path):
    path = tmp_path / "registre.sqlite"
    register = SQLiteRegister(path)
    fill(register, 12)
    register.close()
    target = tmp_path / "ailleurs" / "chiffres.json"
    done = run(tmp_path, path, "statistiques", ALERTE_STATISTIQUES=str(target))
    assert done.returncode == 0, done.stderr
    assert json.loads(target.read_text("utf-8"))["format"]
    assert not (tmp_path / "data" / "statistiques.json").exists()
    assert str(target) in done.stderr


@pytest.mark.slow
def test_rapport_says_the_full_path_of_the_file_it_wrote(tmp_path: Path):
    path = tmp_path / "registre.sqlite"
    register = SQLiteRegister(path)
    fill(register, 3)
    register.close()
    done = run(tmp_path, path, "rapport", "--du", "2026-01-01", "--au", "2026-06-30")
    assert done.returncode == 0, done.stderr
    written = tmp_path / "rapport-2026-01-01-2026-06-30.html"
    assert written.exists()
    assert str(written) in done.stderr.replace("\n", "")


def test_an_empty_modeles_tab_names_initialiser():
    with pytest.raises(TemplateProblem) as caught:
        Composer([]).compose(make_alert(), "sms")
    assert "initialiser" in caught.value.message


def test_a_status_without_callback_is_matched_by_its_wamid(tmp_path: Path):
    path = tmp_path / "registre.sqlite"
    register = sqlite_register(path, 4, alert=prevention_alert())
    journal = tmp_path / "journal.sqlite"
    with TimedWhatsAppEmulator() as wa, webhook_receiver(journal) as url:
        settings = whatsapp_settings(tmp_path, str(path), wa, whatsapp_app_secret=APP_SECRET,
                                     status_wait=0.2)
        sender = Sender(register, settings, console=quiet_console(), progress=False)
        try:
            sender.run_once()
        finally:
            sender.close()
        for accepted in wa.accepted:  # statuses that come without biz_opaque_callback_data
            body = json.dumps(envelope("messages", {"statuses": [
                status_item(accepted.wamid, "delivered", accepted.to, None)]}, PHONE_ID)).encode()
            answer = requests.post(url, data=body, timeout=10, headers={
                "Content-Type": "application/json", "X-Hub-Signature-256": sign(body, APP_SECRET)})
            assert answer.status_code == 200
    with Journal(journal) as j:
        assert {e.delivery for e in j.entries("1")} == {"delivered"}
    register.close()


def test_a_port_already_in_use_is_a_french_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigurationError) as caught:
            make_server(lambda environ, start: [], "127.0.0.1", port)
    assert f"port {port}" in caught.value.message and "--port" in caught.value.message


def test_python_m_sender_without_dependencies_gives_a_french_hint(tmp_path: Path):
    # -S: a Python without site-packages (like one the project was never installed in); the
    # package itself is found in the current folder, the project's root
    env = {k: v for k, v in subprocess_env(tmp_path, "r.sqlite").items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-S", "-m", "sender", "--help"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 1
    assert "make install" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow
def test_the_local_site_build_prints_no_siteurl_warning(tmp_path: Path):
    done = subprocess.run(
        [str(Path(alerte_message_bin()).with_name("pelican")), str(ROOT / "content"), "-s",
         str(ROOT / "pelicanconf.py"), "-o", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path,
        env=subprocess_env(tmp_path, str(tmp_path / "r.sqlite")),
    )
    assert done.returncode == 0, done.stderr
    assert "SITEURL" not in done.stdout + done.stderr
    assert (tmp_path / "out" / "feeds" / "all.atom.xml").exists()


def test_modeles_without_rows_makes_the_alert_erreur_with_initialiser(tmp_path: Path):
    register = sqlite_register(tmp_path / "registre.sqlite", 3, alert=prevention_alert())
    register.close()
    import sqlite3

    with sqlite3.connect(tmp_path / "registre.sqlite") as conn:
        conn.execute(f'DELETE FROM "{schema.MODELES}"')
    register = SQLiteRegister(tmp_path / "registre.sqlite")
    from sender.config import Settings

    settings = Settings(register=str(tmp_path / "registre.sqlite"),
                        journal=tmp_path / "journal.sqlite", outbox=tmp_path / "outbox.jsonl")
    sender = Sender(register, settings, console=quiet_console(), progress=False)
    try:
        sender.run_once()
    finally:
        sender.close()
    from support.scenario import alert_row

    row = alert_row(register)
    register.close()
    assert row["statut"] == schema.ERREUR
    assert "initialiser" in row["motif"]


def test_importer_checks_headers_before_importing_anything(tmp_path: Path):
    from sender.errors import InputError
    from sender.operations import import_file

    register = SQLiteRegister(tmp_path / "registre.sqlite")
    register.initialise()
    without = tmp_path / "sans-telephone.csv"
    without.write_text("nom;entreprise;commune\nMartin;Boulangerie;Mende\n", "utf-8")
    with pytest.raises(InputError) as caught:
        import_file(register, without)
    assert "telephone" in caught.value.message and "Rien n'a été importé" in caught.value.message
    assert "nom, entreprise, activite, commune, telephone" in caught.value.message
    assert register.read([schema.INSCRIPTIONS])[schema.INSCRIPTIONS].rows == []

    for header in ("Tél.", "Mobile", "portable", "Téléphone"):
        synonym = tmp_path / "synonyme.csv"
        synonym.write_text(f"nom;{header}\nMartin;06 12 34 56 78\n", "utf-8")
        report = import_file(register, synonym)
        assert report.rows[0]["telephone"] == "06 12 34 56 78", header

    signups = tmp_path / "inscriptions.csv"
    signups.write_text("nom;entreprise;activite;commune;telephone\n"
                       "Martin;Boulangerie;alimentation;Mende;0612345678\n", "utf-8")
    with pytest.raises(InputError) as wrong_tab:
        import_file(register, signups, tab=schema.ALERTES)
    assert "agent" in wrong_tab.value.message
    assert register.read([schema.ALERTES])[schema.ALERTES].rows == []
    register.close()


def test_a_second_pause_keeps_its_motif_and_an_error_is_not_counted_en_cours():
    from datetime import datetime

    from sender.cycle import AlertPlan, CycleReport, in_progress_cells, result_cells
    from sender.dispatch.report import DispatchReport
    from sender.journal.journal import AlertSummary
    from sender.tables import Row

    paused = "WhatsApp ne répond plus (10 demandes de suite sans réponse) : envoi suspendu."
    row = Row(7, {"id": "1", "statut": schema.EN_COURS, "motif": paused,
                  "destinataires": "3"})  # as the first pause left it
    plan = AlertPlan(row, "1", schema.A_DIFFUSER, recipients=[])
    before = {c.column: c.value for c in in_progress_cells(plan)}
    assert before["motif"] == ""  # written over the row before sending
    result = DispatchReport("1", recipients=3, sent=1, not_sent=2, paused_motif=paused)
    summary = AlertSummary("1")
    after = {c.column: c.value for c in result_cells(plan, result, summary, datetime.now())}
    assert after["statut"] == schema.EN_COURS and after["motif"] == paused

    stopped = DispatchReport("2", recipients=3, stopped_motif="jeton refusé")
    report = CycleReport(started=datetime.now())
    report.dispatched.append((AlertPlan(row, "2", schema.A_DIFFUSER), stopped))
    assert "1 alerte en erreur" in report.summary()
    assert "en cours" not in report.summary()

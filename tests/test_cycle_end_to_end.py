"""A whole sender cycle, from the files staff import to the results written back on the row.

Two set-ups: a SQLite register with the outbox channel, and a Google Sheets register (real gspread
against the Sheets emulator) with the WhatsApp channel (real requests against the WhatsApp
emulator). Members, officers and alerts are imported as `alerte-message importer` does.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from sender import operations, schema
from sender.channels.outbox import OutboxChannel
from sender.config import Settings
from sender.dates import format_french, now
from sender.errors import InputError
from sender.register.base import Register
from sender.register.sheets.client import GoogleSheetsRegister
from sender.register.sqlite import SQLiteRegister
from sender.runner import Sender
from sender.tables import CellChange
from support.emulators.sheets import SheetsEmulator, local_client
from support.scenario import (
    APP_SECRET,
    SHEETS_DISPATCH_BUDGET,
    SHEETS_IDLE_BUDGET,
    TimedWhatsAppEmulator,
    alert_row,
    quiet_console,
    sheets_register,
    webhook_receiver,
    whatsapp_settings,
)

MEMBERS_CSV = """nom;entreprise;activite;commune;telephone
Anne Rouvière;Boulangerie du Gévaudan;Alimentation;Marvejols;06 12 34 56 78
Bruno Fabre;Garage Fabre;Automobile, motocycle;Mende;07 56 12 34 56
Chloé Pagès;Salon Chloé;Coiffure, esthétique;St Chély d'Apcher;+33 6 98 76 54 32
Denis Bonnal;Bar des Sports;Café, hôtel, restaurant;Florac;04 66 45 00 00
Émile Vidal;Tabac Vidal;Tabac, presse;Langogne;0033 6 11 22 33 44
Anne bis;Boulangerie du Gévaudan;Alimentation;Marvejols;0612345678
Fanny Roux;Pharmacie Roux;Pharmacie, optique, santé;Mende;612340000
"""
# Active members after cleaning: the landline is refused, « Anne bis » is a duplicate.
ACTIVE = ["+33612345678", "+33756123456", "+33698765432", "+33611223344", "+33612340000"]
OFFICERS_CSV = """identifiant;nom;service;actif;email
G48001;Adjudant Martin;Gendarmerie de Marvejols;oui;adjudant.martin.g48001@gmail.com
P48001;Brigadier Durand;Commissariat de Mende;non;brigadier.durand.p48001@gmail.com
"""


def _alerts_csv(tmp: Path) -> Path:
    """Alert 1: a theft reported 20 minutes after the facts; 2: prevention by an inactive
    officer (refused); 3: a theft reported 2 hours late (refused); 4: a draft (ignored)."""
    moment = now()
    faits = format_french(moment - timedelta(minutes=40))
    signale = format_french(moment - timedelta(minutes=20))
    late = format_french(moment - timedelta(hours=3))
    path = tmp / "alertes.csv"
    path.write_text(
        "service;agent;type;faits_le;signale_le;commune;lieu;description;auteurs;cible_zone;statut\n"
        f"Gendarmerie;G48001;vol;{faits};{signale};Marvejols;Grand-rue;Vol à l'étalage d'une "
        "caisse de vin;deux hommes;toutes;à diffuser\n"
        "Police;P48001;prévention;;;;;Faux billets en circulation;;toutes;à diffuser\n"
        f"Gendarmerie;G48001;vol;{late};{signale};Mende;;Vol de portefeuille;;toutes;à diffuser\n"
        "Gendarmerie;G48001;prévention;;;;;Brouillon en cours de rédaction;;toutes;brouillon\n",
        encoding="utf-8",
    )
    return path


def _import_everything(register: Register, tmp: Path) -> None:
    register.initialise()
    (tmp / "membres.csv").write_text(MEMBERS_CSV, encoding="utf-8")
    (tmp / "agents.csv").write_text(OFFICERS_CSV, encoding="utf-8")
    report = operations.import_file(register, tmp / "membres.csv")
    assert sorted(r.numero for r in report.results if r and r.statut == schema.ACTIF) == sorted(
        ACTIVE
    )
    operations.import_file(register, tmp / "agents.csv", tab=schema.HABILITATIONS)
    register.initialise()  # Google Sheets: only the active officer's account may edit Alertes
    operations.import_file(register, _alerts_csv(tmp), tab=schema.ALERTES)


def _check_rows(register: Register) -> None:
    sent = alert_row(register, "1")
    assert sent["statut"] == schema.DIFFUSEE
    assert sent["diffusee_le"].strip()
    assert (sent["destinataires"], sent["envoyes"], sent["echecs"]) == ("5", "5", "0")
    assert sent["motif"] == ""
    inactive = alert_row(register, "2")
    assert inactive["statut"] == schema.REFUSEE
    assert "Habilitations" in inactive["motif"] and "P48001" in inactive["motif"]
    late = alert_row(register, "3")
    assert late["statut"] == schema.REFUSEE and "Délai dépassé" in late["motif"]
    assert alert_row(register, "4")["statut"] == schema.BROUILLON


# -- SQLite register + outbox ------------------------------------------------------------------


@pytest.fixture
def local(tmp_path: Path):
    register = SQLiteRegister(tmp_path / "registre.sqlite")
    _import_everything(register, tmp_path)
    settings = Settings(register=str(tmp_path / "registre.sqlite"),
                        journal=tmp_path / "journal.sqlite", outbox=tmp_path / "outbox.jsonl")
    channel = OutboxChannel(settings.outbox, console=quiet_console(), quiet=True)
    sender = Sender(register, settings, channel=channel, console=quiet_console(), progress=False)
    yield register, sender, settings
    sender.close()
    register.close()


def _outbox(settings: Settings) -> list[dict]:
    if not settings.outbox.exists():
        return []
    return [json.loads(line) for line in settings.outbox.read_text(encoding="utf-8").splitlines()]


def test_sqlite_outbox_cycle_sends_each_member_once_and_writes_results(local):
    register, sender, settings = local
    report = sender.run_once()
    assert [plan.alert_id for plan, _ in report.dispatched] == ["1"]
    assert sorted(p.alert_id for p in report.refused) == ["2", "3"]
    _check_rows(register)
    messages = _outbox(settings)
    assert sorted(m["recipient"] for m in messages) == sorted(ACTIVE)
    assert {m["alert_id"] for m in messages} == {"1"}
    assert "Vol à l'étalage" in messages[0]["text"]
    row = alert_row(register, "1")
    assert (row["remis"], row["lus"]) == ("", "")  # no status webhook: unknown, not zero

    again = sender.run_once()  # nothing new: nothing sent, nothing rewritten
    assert not again.dispatched and not again.refused
    assert len(_outbox(settings)) == len(ACTIVE)


def test_template_error_reaches_the_row_as_erreur(local):
    register, sender, settings = local
    modeles = register.read([schema.MODELES])[schema.MODELES]
    changes = [
        CellChange(schema.MODELES, row.key, "texte", "ALERTE {{ type }} {% for x in y %}{% endfor")
        for row in modeles.rows if row.get("canal") == "sms"
    ]
    register.write(changes)
    sender.run_once()
    row = alert_row(register, "1")
    assert row["statut"] == schema.ERREUR
    assert "Modèle" in row["motif"] and "Modeles" in row["motif"]
    assert _outbox(settings) == []


def test_refused_alert_corrected_by_the_officer_is_sent_at_the_next_cycle(local):
    register, sender, settings = local
    sender.run_once()
    row = next(r for r in register.read([schema.ALERTES])[schema.ALERTES].rows
               if r.get("id") == "2")
    register.write([CellChange(schema.ALERTES, row.key, "agent", "G48001"),
                    CellChange(schema.ALERTES, row.key, "statut", schema.A_DIFFUSER)])
    sender.run_once()
    fixed = alert_row(register, "2")
    assert fixed["statut"] == schema.DIFFUSEE and fixed["motif"] == ""
    recipients = [m["recipient"] for m in _outbox(settings) if m["alert_id"] == "2"]
    assert sorted(recipients) == sorted(ACTIVE)


def test_preview_plans_a_draft_as_if_it_were_to_send_and_writes_nothing(local):
    register, sender, settings = local
    before = register.read([schema.ALERTES])[schema.ALERTES].as_dicts()
    plan = sender.preview("4")
    assert (plan.alert_id, plan.status, plan.motif) == ("4", schema.A_DIFFUSER, "")
    assert sorted(plan.messages) == ["sms", "whatsapp"]
    assert "Brouillon en cours de rédaction" in plan.messages["sms"].text
    assert sorted(m.numero for m in plan.recipients) == sorted(ACTIVE)
    assert register.read([schema.ALERTES])[schema.ALERTES].as_dicts() == before
    assert _outbox(settings) == []
    with pytest.raises(InputError, match="Aucune alerte avec l'identifiant « 9 »"):
        sender.preview("9")


# -- Google Sheets register + WhatsApp ---------------------------------------------------------


def test_sheets_whatsapp_cycle_with_request_budget(sheets: SheetsEmulator, tmp_path: Path):
    register, key = sheets_register(sheets)
    _import_everything(register, tmp_path)
    with TimedWhatsAppEmulator(latency=0.0) as wa:
        settings = whatsapp_settings(tmp_path, key, wa)
        sender = Sender(register, settings, console=quiet_console(), progress=False)
        try:
            sheets.reset_counts()
            sender.run_once()
            dispatch_requests = sheets.total_requests
            _check_rows(register)
            assert sorted(wa.accepted_numbers().elements()) == sorted(n[1:] for n in ACTIVE)
            assert all(a.template == "alerte_commercants" for a in wa.accepted)
            assert wa.accepted[0].parameters["lieu"].startswith("Marvejols")

            sheets.reset_counts()
            sender.run_once()
            idle_requests = sheets.total_requests
        finally:
            sender.close()
    # Read, protection check, two writes each with its look; the first cycle also appends the
    # `Etat` rows (one read + one append).
    assert dispatch_requests <= SHEETS_DISPATCH_BUDGET + 2
    assert idle_requests == SHEETS_IDLE_BUDGET


def _members_and_officers(
    sheets: SheetsEmulator, key: str, tmp_path: Path
) -> GoogleSheetsRegister:
    """A new sheet with the example members and officers; `initialise` runs again once the
    officers are in, so their accounts become the editors of `Alertes`."""
    sheets.create_spreadsheet(key)
    register = GoogleSheetsRegister(key, local_client(sheets.base_url), sleep=lambda s: None)
    register.initialise()
    (tmp_path / "membres.csv").write_text(MEMBERS_CSV, encoding="utf-8")
    (tmp_path / "agents.csv").write_text(OFFICERS_CSV, encoding="utf-8")
    operations.import_file(register, tmp_path / "membres.csv")
    operations.import_file(register, tmp_path / "agents.csv", tab=schema.HABILITATIONS)
    register.initialise()
    return register


def test_sheets_dispatch_stays_within_budget_on_a_warm_sender(
    sheets: SheetsEmulator, tmp_path: Path
):
    key = "1Ab" + uuid.uuid4().hex + "warm"
    register = _members_and_officers(sheets, key, tmp_path)
    with TimedWhatsAppEmulator() as wa:
        sender = Sender(register, whatsapp_settings(tmp_path, key, wa),
                        console=quiet_console(), progress=False)
        try:
            sender.run_once()  # warm: metadata, heartbeat rows
            operations.import_file(register, _alerts_csv(tmp_path), tab=schema.ALERTES)
            sheets.reset_counts()
            sender.run_once()
            # read, protection check, writes before and after the dispatch (each with its look)
            assert sheets.total_requests <= SHEETS_DISPATCH_BUDGET
            assert len(wa.accepted) == len(ACTIVE)
            sheets.reset_counts()
            sender.run_once()
            assert sheets.total_requests == SHEETS_IDLE_BUDGET
        finally:
            sender.close()
    _check_rows(register)


def test_sheets_status_counts_and_opt_outs_stay_within_the_request_budget(
    sheets: SheetsEmulator, tmp_path: Path
):
    """Statuses that arrive after the dispatch cost one batched write at the next poll; an idle
    poll still costs the read only; opt-outs received on WhatsApp cost one append."""
    key = "1Ab" + uuid.uuid4().hex + "statuts"
    register = _members_and_officers(sheets, key, tmp_path)
    operations.import_file(register, _alerts_csv(tmp_path), tab=schema.ALERTES)
    with TimedWhatsAppEmulator() as wa, webhook_receiver(tmp_path / "journal.sqlite") as url:
        settings = whatsapp_settings(tmp_path, key, wa, whatsapp_app_secret=APP_SECRET)
        sender = Sender(register, settings, console=quiet_console(), progress=False)
        try:
            sender.run_once()  # dispatch; no status so far
            wa.webhooks(url, APP_SECRET, delay=0.0, read=1.0)
            assert wa.post_statuses() == 5  # Meta reports the five messages now
            assert wa.flush_webhooks()
            sheets.reset_counts()
            sender.run_once()
            # the read, then one write with the counts, preceded by its look at where rows are
            assert sheets.total_requests == 3
            row = alert_row(register, "1")
            assert (row["remis"], row["lus"]) == ("5", "5")
            sheets.reset_counts()
            sender.run_once()
            assert sheets.total_requests == 1  # idle poll: the read only

            wa.incoming_text(ACTIVE[0], "stop")
            assert wa.flush_webhooks()
            sheets.reset_counts()
            sender.run_once()
            # the append (tab check, header read, append), the read, the cleaning's write and
            # its look at where rows are
            assert sheets.total_requests <= 6
            members = register.read([schema.INSCRIPTIONS])[schema.INSCRIPTIONS].as_dicts()
            assert {m["numero"]: m["statut"] for m in members}[ACTIVE[0]] == schema.DESINSCRIT
            sheets.reset_counts()
            sender.run_once()
            assert sheets.total_requests == 1
        finally:
            sender.close()
    assert [r.to for r in wa.replies] == [ACTIVE[0][1:]]

"""An alert's whole life for the officer: the `controle` line of a draft, follow-ups to exactly
the members the original reached, calling an alert off, progress during a long dispatch.

SQLite and Google Sheets (the Sheets emulator, real gspread) registers; the WhatsApp channel
through real HTTP to the WhatsApp emulator.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from sender import schema
from sender.alerts.preflight import timing_note
from sender.alerts.sequel import short_moment
from sender.dates import format_french, now, parse_datetime
from sender.journal.journal import Journal
from sender.journal.states import SENT, Outcome
from sender.register.base import Register
from sender.register.defaults import whatsapp_text
from sender.register.sheets.client import GoogleSheetsRegister
from sender.register.sqlite import SQLiteRegister
from sender.runner import Sender
from sender.tables import CellChange
from sender.text import plural
from support.emulators.sheets import SheetsEmulator, local_client
from support.scenario import (
    AGENT,
    SHEETS_IDLE_BUDGET,
    TimedWhatsAppEmulator,
    alert_row,
    fill,
    member_rows,
    mobile,
    prevention_alert,
    quiet_console,
    sheets_register,
    whatsapp_settings,
)

MEMBERS = 6


def incident(alert_id: str, statut: str, *, faits_minutes: int = 40, signale_minutes: int = 20,
             **extra: str) -> dict[str, str]:
    """A theft in Mende (police zone, where every test member is)."""
    moment = now()
    row = {
        "id": alert_id,
        "service": "Commissariat de Mende",
        "agent": AGENT,
        "type": "vol",
        "faits_le": format_french(moment - timedelta(minutes=faits_minutes)),
        "signale_le": format_french(moment - timedelta(minutes=signale_minutes)),
        "commune": "Mende",
        "lieu": "rue Basse",
        "description": "Vol de la caisse d'une boulangerie",
        "cible_zone": "toutes",
        "statut": statut,
    }
    row.update(extra)
    return row


def set_cells(register, alert_id: str, **values: str) -> None:
    table = register.read([schema.ALERTES])[schema.ALERTES]
    row = next(r for r in table.rows if r.get("id") == alert_id)
    register.write([CellChange(schema.ALERTES, row.key, c, v) for c, v in values.items()])


@pytest.fixture
def wa() -> Iterator[TimedWhatsAppEmulator]:
    with TimedWhatsAppEmulator() as emulator:
        yield emulator


def new_register(kind: str, tmp_path: Path, request: pytest.FixtureRequest
                 ) -> tuple[Register, str, Callable[[], Register]]:
    """An empty register of `kind` (« sqlite » or « sheets »), its address for the settings,
    and how an officer opens it again from elsewhere."""
    if kind == "sqlite":
        path = tmp_path / "registre.sqlite"
        return SQLiteRegister(path), str(path), lambda: SQLiteRegister(path)
    sheets: SheetsEmulator = request.getfixturevalue("sheets")
    register, key = sheets_register(sheets)
    return register, key, lambda: GoogleSheetsRegister(
        key, local_client(sheets.base_url), sleep=lambda _s: None
    )


@pytest.fixture(params=["sqlite", "sheets"])
def local(request, tmp_path: Path, wa: TimedWhatsAppEmulator):
    """A register (SQLite, or Google Sheets through the emulator) with members and an
    officer, and a sender dispatching through the WhatsApp emulator."""
    register, address, _ = new_register(request.param, tmp_path, request)
    fill(register, MEMBERS)
    settings = whatsapp_settings(tmp_path, address, wa, concurrency=4, poll_seconds=0.2)
    sender = Sender(register, settings, console=quiet_console(), progress=False)
    yield register, sender
    sender.close()
    register.close()


# -- controle ----------------------------------------------------------------------------------


def test_controle_of_a_ready_draft_announces_recipients_channels_cost_and_time(local):
    register, sender = local
    row = incident("1", schema.BROUILLON)
    register.append(schema.ALERTES, [row])
    report = sender.run_once()
    assert not report.dispatched
    line = alert_row(register, "1")["controle"]
    deadline = short_moment(parse_datetime(row["signale_le"]) + timedelta(hours=48))
    assert line == (
        f"Prête : {MEMBERS} destinataires (WhatsApp {MEMBERS}, SMS 0, environ 0,15\u00a0€) ; "
        "signalée 20 min après les faits, règle d'une heure respectée, encore 47 h pour "
        f"diffuser (jusqu'au {deadline}). Pour l'envoyer : statut « à diffuser »."
    )


def test_time_left_is_worded_in_minutes_during_the_last_hour():
    moment = now()
    saisie = format_french(moment - timedelta(hours=47, minutes=24))
    note = timing_note({"type": "prévention", "saisie_le": saisie}, now=moment,
                       stale_hours=48)
    assert note in ("prévention sans règle d'une heure, encore 36 min pour diffuser",
                    "prévention sans règle d'une heure, encore 35 min pour diffuser")
    late = timing_note({"type": "prévention", "saisie_le": saisie}, now=moment,
                       stale_hours=47)
    assert late == "prévention sans règle d'une heure, délai pour diffuser dépassé"
    assert timing_note({"type": "prévention"}, now=moment, stale_hours=48) == (
        "prévention : ni règle d'une heure ni limite de temps")


def test_controle_gives_the_exact_refusal_and_how_to_fix_it(local):
    register, sender = local
    register.append(schema.ALERTES, [
        incident("1", schema.BROUILLON, faits_minutes=150, signale_minutes=20),
        incident("2", schema.BROUILLON, cible_communes="Florac"),
        incident("3", schema.BROUILLON, signale_minutes=0, signale_le=""),
        prevention_alert("4", statut=schema.BROUILLON, agent="X999"),
    ])
    sender.run_once()
    late = alert_row(register, "1")["controle"]
    assert late.startswith("Refusée si elle était envoyée maintenant : Délai dépassé : ")
    assert "la règle impose moins d'une heure" in late
    nobody = alert_row(register, "2")["controle"]
    assert "cible" in nobody and nobody.startswith("Refusée si elle était envoyée maintenant")
    missing = alert_row(register, "3")["controle"]
    assert "Champ « signale_le » vide" in missing
    assert "règle d'une heure : le signalement doit dater d'avant" in missing
    officer = alert_row(register, "4")["controle"]
    assert "X999" in officer and "Habilitations" in officer


def test_controle_reports_a_template_error(local):
    register, sender = local
    modeles = register.read([schema.MODELES])[schema.MODELES]
    register.write([CellChange(schema.MODELES, r.key, "modele_whatsapp", "")
                    for r in modeles.rows if r.get("canal") == "whatsapp"])
    register.append(schema.ALERTES, [prevention_alert("1", statut=schema.BROUILLON)])
    sender.run_once()
    line = alert_row(register, "1")["controle"]
    assert line.startswith("Erreur de modèle si elle était envoyée maintenant : Modèle ")
    assert "modele_whatsapp" in line


def test_controle_counts_sms_for_members_known_without_whatsapp(tmp_path, wa):
    """With an SMS fallback, members the journal reached by SMS are announced as SMS."""
    register = SQLiteRegister(tmp_path / "registre.sqlite")
    fill(register, MEMBERS)
    settings = whatsapp_settings(tmp_path, str(tmp_path / "registre.sqlite"), wa,
                                 sms_api_key="cle", sms_fallback=True)
    sender = Sender(register, settings, console=quiet_console(), progress=False)
    try:
        journal = sender.journal
        assert journal.acquire("0", "test", 60)
        journal.claim("0", "test", [(mobile(0), "sms")])
        journal.record("0", [Outcome(mobile(0), SENT, "sms", fallback=True)])
        register.append(schema.ALERTES, [prevention_alert("1", statut=schema.BROUILLON)])
        sender.run_once()
        line = alert_row(register, "1")["controle"]
        parts = sender.preview("1").messages["sms"].sms.segments
        cost = f"{(MEMBERS - 1) * 0.025 + parts * 0.08:.2f}".replace(".", ",")
        assert f"(WhatsApp {MEMBERS - 1}, SMS 1, environ {cost}\u00a0€)" in line
    finally:
        sender.close()
        register.close()


def test_controle_number_is_the_number_the_dispatch_reaches(local, wa):
    register, sender = local
    register.append(schema.INSCRIPTIONS, member_rows(2, start=MEMBERS, clean=False))
    register.append(schema.INSCRIPTIONS, [{
        "id": "99", "horodatage": "01/03/2026 09:00", "source": "import", "nom": "Fixe",
        "entreprise": "Fixe", "activite": "Services", "commune": "Mende",
        "telephone": "04 66 00 00 00", "consentement": "v1",
    }])
    register.append(schema.ALERTES, [incident("1", schema.BROUILLON)])
    sender.run_once()
    line = alert_row(register, "1")["controle"]
    announced = int(line.split("Prête : ")[1].split(" ")[0])
    assert announced == MEMBERS + 2  # the landline is not a member
    set_cells(register, "1", statut=schema.A_DIFFUSER)
    sender.run_once()
    row = alert_row(register, "1")
    assert row["statut"] == schema.DIFFUSEE
    assert int(row["envoyes"]) == announced == len(wa.accepted)
    assert row["controle"] == ""  # the check was about the draft


def test_controle_is_written_when_it_changes_only(local):
    register, sender = local
    register.append(schema.ALERTES, [prevention_alert("1", statut=schema.BROUILLON)])
    sender.run_once()
    first = alert_row(register, "1")["controle"]
    assert first.startswith(f"Prête : {MEMBERS} destinataires")
    writes: list[list[CellChange]] = []
    original = register.write

    def recording(changes):
        changes = list(changes)
        writes.append(changes)
        return original(changes)

    register.write = recording  # type: ignore[method-assign]
    sender.run_once()
    assert not [c for w in writes for c in w if c.column == "controle"]
    set_cells(register, "1", cible_communes="Florac")
    writes.clear()
    sender.run_once()
    assert [c.column for w in writes for c in w if c.tab == schema.ALERTES] == ["controle"]
    assert alert_row(register, "1")["controle"].startswith("Refusée si elle était envoyée")


def test_sheets_idle_poll_with_a_draft_costs_one_request(sheets: SheetsEmulator, tmp_path, wa):
    register, key = sheets_register(sheets)
    fill(register, MEMBERS, alert=prevention_alert("1", statut=schema.BROUILLON))
    sender = Sender(register, whatsapp_settings(tmp_path, key, wa), console=quiet_console(),
                    progress=False)
    try:
        sender.run_once()
        assert alert_row(register, "1")["controle"].startswith(f"Prête : {MEMBERS} dest")
        sheets.reset_counts()
        sender.run_once()
        assert sheets.total_requests == SHEETS_IDLE_BUDGET
    finally:
        sender.close()


# -- follow-ups --------------------------------------------------------------------------------


def _sent_to(wa: TimedWhatsAppEmulator, template: str) -> set[str]:
    return {a.to for a in wa.accepted if a.template == template}


def test_follow_up_reaches_exactly_the_members_the_original_reached(local, wa):
    register, sender = local
    register.append(schema.ALERTES, [incident("1", schema.A_DIFFUSER)])
    sender.run_once()
    assert alert_row(register, "1")["statut"] == schema.DIFFUSEE
    reached = _sent_to(wa, "alerte_commercants")
    assert len(reached) == MEMBERS
    # Since then: one member unsubscribed, one joined.
    register.append(schema.DESINSCRIPTIONS, [
        {"horodatage": format_french(now()), "telephone": mobile(0), "source": "saisie"}
    ])
    register.append(schema.INSCRIPTIONS, member_rows(1, start=MEMBERS))
    register.append(schema.ALERTES, [{
        "id": "2", "agent": AGENT, "type": "suite", "suite_de": "1",
        "description": "l'auteur a été interpellé", "statut": schema.A_DIFFUSER,
    }])
    sender.run_once()
    follow_up = alert_row(register, "2")
    assert follow_up["statut"] == schema.DIFFUSEE, follow_up["motif"]
    got = _sent_to(wa, "suite_alerte_commercants")
    assert got == reached - {mobile(0)[1:]}
    assert mobile(MEMBERS)[1:] not in got
    message = next(a for a in wa.accepted if a.template == "suite_alerte_commercants")
    text = whatsapp_text(message.template, message.parameters)
    assert text is not None and text.startswith("SUITE DE L'ALERTE du ")
    assert "— vol, Mende :\nL'auteur a été interpellé\nMessage de : " in text
    original = alert_row(register, "1")
    assert "Suite envoyée le " in original["motif"]
    assert f"(alerte n° 2, agent {AGENT})." in original["motif"]
    sender.run_once()  # nothing new: the note is not added twice
    assert alert_row(register, "1")["motif"].count("alerte n° 2") == 1


def test_end_of_alert_uses_its_own_template_and_sms_text(local, wa):
    register, sender = local
    register.append(schema.ALERTES, [prevention_alert("1")])
    sender.run_once()
    register.append(schema.ALERTES, [{
        "id": "2", "agent": AGENT, "type": "fin d'alerte", "suite_de": "1",
        "description": "Les faux billets ont été saisis", "statut": schema.BROUILLON,
    }])
    sender.run_once()
    line = alert_row(register, "2")["controle"]
    assert line.startswith(f"Prête : suite de l'alerte n° 1 pour {MEMBERS} destinataires")
    assert "suite sans règle d'une heure, encore 6 jours pour l'envoyer" in line
    plan = sender.preview("2")
    assert plan.messages["sms"].text.startswith("FIN D'ALERTE du ")
    assert " - prévention :\nLes faux billets ont été saisis." in plan.messages["sms"].text
    set_cells(register, "2", statut=schema.A_DIFFUSER)
    sender.run_once()
    sent = [a for a in wa.accepted if a.template == "fin_alerte_commercants"]
    assert len(sent) == MEMBERS
    text = whatsapp_text(sent[0].template, sent[0].parameters)
    assert text is not None and text.startswith("FIN D'ALERTE du ")
    assert "Fin d'alerte envoyée le " in alert_row(register, "1")["motif"]


def test_follow_up_refusals(local, wa):
    register, sender = local
    register.append(schema.ALERTES, [
        prevention_alert("1", statut=schema.BROUILLON),
        {"id": "2", "agent": AGENT, "type": "suite", "suite_de": "1", "description": "x",
         "statut": schema.A_DIFFUSER},
        {"id": "3", "agent": AGENT, "type": "suite", "suite_de": "", "description": "x",
         "statut": schema.A_DIFFUSER},
        {"id": "4", "agent": AGENT, "type": "suite", "suite_de": "77", "description": "x",
         "statut": schema.A_DIFFUSER},
    ])
    sender.run_once()
    assert "est « brouillon » : une suite ne part qu'après une alerte « diffusée »" in (
        alert_row(register, "2")["motif"])
    assert "Champ « suite_de » vide" in alert_row(register, "3")["motif"]
    assert "Aucune alerte avec l'identifiant « 77 »" in alert_row(register, "4")["motif"]
    assert not wa.accepted


def test_follow_up_more_than_seven_days_after_is_refused(tmp_path, wa):
    register = SQLiteRegister(tmp_path / "registre.sqlite")
    fill(register, MEMBERS, alert=prevention_alert("1"))
    settings = whatsapp_settings(tmp_path, str(tmp_path / "registre.sqlite"), wa)
    sender = Sender(register, settings, console=quiet_console(), progress=False)
    later = Sender(register, settings, console=quiet_console(), progress=False,
                   clock=lambda: now() + timedelta(days=8))
    try:
        sender.run_once()
        register.append(schema.ALERTES, [{
            "id": "2", "agent": AGENT, "type": "suite", "suite_de": "1", "description": "x",
            "statut": schema.A_DIFFUSER,
        }])
        later.run_once()
        row = alert_row(register, "2")
        assert row["statut"] == schema.REFUSEE
        assert "il y a 8 jours : une suite part au plus 7 jours après" in row["motif"]
        assert len(wa.accepted) == MEMBERS
    finally:
        sender.close()
        later.close()
        register.close()


# -- calling off -------------------------------------------------------------------------------


def test_call_off_before_the_dispatch(local, wa):
    register, sender = local
    register.append(schema.ALERTES, [incident("1", schema.ANNULEE)])
    sender.run_once()
    row = alert_row(register, "1")
    assert row["statut"] == schema.ANNULEE
    assert row["motif"] == "Annulée avant tout envoi : aucun message n'est parti."
    assert not wa.accepted


@pytest.mark.parametrize("kind", ["sqlite", "sheets"])
def test_call_off_while_waiting_for_the_daily_limit(kind, tmp_path, wa, request):
    register, path, _ = new_register(kind, tmp_path, request)
    fill(register, MEMBERS, alert=prevention_alert("1"))
    capped = Sender(register, whatsapp_settings(tmp_path, path, wa, daily_limit=2),
                    console=quiet_console(), progress=False)
    try:
        capped.run_once()
        assert alert_row(register, "1")["statut"] == schema.EN_COURS
        assert len(wa.accepted) == 2
        set_cells(register, "1", statut=schema.ANNULEE)
        capped.run_once()
    finally:
        capped.close()
    row = alert_row(register, "1")
    assert row["statut"] == schema.ANNULEE
    assert row["motif"].startswith("Annulée : 2 messages partis avant l'annulation")
    free = Sender(register, whatsapp_settings(tmp_path, path, wa), console=quiet_console(),
                  progress=False)
    try:
        free.run_once()  # the limit is lifted: still nobody else
        free.run_once()
    finally:
        free.close()
    assert len(wa.accepted) == 2


@pytest.mark.parametrize("kind", ["sqlite", "sheets"])
def test_call_off_while_paused_counts_the_messages_that_may_have_gone(kind, tmp_path, wa,
                                                                       request):
    """The API stopped answering (answers lost): the run paused, the row stays « en cours »;
    called off, nobody else gets it, and the motif counts the possible copies too."""
    members = 30
    register, address, _ = new_register(kind, tmp_path, request)
    fill(register, members, alert=prevention_alert("1"))
    sender = Sender(register, whatsapp_settings(tmp_path, address, wa, concurrency=1),
                    console=quiet_console(), progress=False)
    wa.drop_next(10, after_accept=True)
    try:
        sender.run_once()
        row = alert_row(register, "1")
        assert row["statut"] == schema.EN_COURS, row["motif"]
        accepted = len(wa.accepted)
        assert 10 <= accepted < members
        set_cells(register, "1", statut=schema.ANNULEE)
        sender.run_once()
        sender.run_once()
    finally:
        sender.close()
    row = alert_row(register, "1")
    assert row["statut"] == schema.ANNULEE
    sent = int(row["envoyes"])
    assert row["motif"] == (
        f"Annulée : {plural(sent, 'message parti', 'messages partis')} (et "
        f"{accepted - sent} peut-être, réponse perdue) "
        "avant l'annulation ; les autres destinataires ne la recevront pas."
    )
    assert len(wa.accepted) == accepted


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "sheets"])
def test_call_off_during_a_dispatch_stalled_by_the_peer(kind, tmp_path, request):
    members = 60
    register, path, reopen = new_register(kind, tmp_path, request)
    fill(register, members, alert=prevention_alert("1"))
    with TimedWhatsAppEmulator() as wa:
        settings = whatsapp_settings(tmp_path, path, wa, concurrency=4, poll_seconds=0.2)
        sender = Sender(register, settings, console=quiet_console(), progress=False)
        wa.stall(1.5)  # requests are accepted, their answers held
        done = threading.Event()
        thread = threading.Thread(target=lambda: (sender.run_once(), done.set()))
        thread.start()
        try:
            deadline = time.monotonic() + 10
            while len(wa.accepted) < 4 and time.monotonic() < deadline:
                time.sleep(0.01)
            officer = reopen()
            set_cells(officer, "1", statut=schema.ANNULEE)
            officer.close()
            claimed = {e.numero for e in _entries(sender)}
            thread.join(20)
            assert done.is_set()
        finally:
            sender.close()
        accepted = {a.to for a in wa.accepted}
        assert 4 <= len(accepted) < members
        assert accepted <= {n[1:] for n in claimed}  # nobody beyond those already claimed
        row = alert_row(register, "1")
        assert row["statut"] == schema.ANNULEE
        assert row["motif"] == (
            f"Annulée : {len(accepted)} messages partis avant l'annulation ; les autres "
            "destinataires ne la recevront pas."
        )
        assert row["envoyes"] == str(len(accepted))
        again = Sender(register, settings, console=quiet_console(), progress=False)
        try:
            again.run_once()
        finally:
            again.close()
        assert {a.to for a in wa.accepted} == accepted


def _entries(sender: Sender):
    with Journal(sender.settings.journal) as journal:
        return journal.entries("1")


# -- progress ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_counts_advance_once_per_poll_during_a_long_dispatch(tmp_path):
    members = 40
    register = SQLiteRegister(tmp_path / "registre.sqlite")
    fill(register, members, alert=prevention_alert("1"))
    writes: list[tuple[float, list[CellChange]]] = []
    original = register.write

    def recording(changes):
        changes = list(changes)
        writes.append((time.monotonic(), changes))
        return original(changes)

    register.write = recording  # type: ignore[method-assign]
    with TimedWhatsAppEmulator(latency=0.05) as wa:
        settings = whatsapp_settings(tmp_path, str(tmp_path / "registre.sqlite"), wa,
                                     concurrency=1, poll_seconds=0.3)
        sender = Sender(register, settings, console=quiet_console(), progress=False)
        try:
            sender.run_once()
        finally:
            sender.close()
    progress = [(t, c) for t, c in writes
                if {x.column for x in c} <= {"envoyes", "echecs"} and c]
    assert len(progress) >= 3
    sent = [int(next(x.value for x in c if x.column == "envoyes")) for _, c in progress]
    assert sent == sorted(sent) and sent[0] > 0 and sent[-1] < members
    # One write per poll at most (a write follows its read by a variable few milliseconds).
    gaps = [b[0] - a[0] for a, b in pairwise(progress)]
    assert min(gaps) >= 0.3 / 2
    assert len(progress) <= (progress[-1][0] - progress[0][0]) / 0.3 + 1
    assert alert_row(register, "1")["envoyes"] == str(members)


# -- a register made before ------------------------------------------------------------------


def test_initialiser_brings_an_older_sheet_to_follow_ups_and_call_off(sheets: SheetsEmulator):
    old = [c for c in schema.COLUMNS[schema.ALERTES] if c not in ("suite_de", "controle")]
    register, key = sheets_register(sheets, {
        schema.ALERTES: [old, ["1", "", "", AGENT, "vol"]],
        schema.MODELES: [list(schema.COLUMNS[schema.MODELES]), ["vol", "sms", "", "fr", "X"]],
    })
    report = register.initialise()
    assert {"Alertes.suite_de", "Alertes.controle"} <= set(report.added_columns)
    assert "Modeles : modèles des suites d'alerte" in report.added_rows
    lists = {
        v["range"]["startColumnIndex"]: [c["userEnteredValue"]
                                         for c in v["rule"]["condition"]["values"]]
        for v in sheets.sheet(key, schema.ALERTES).validations
    }
    assert lists[old.index("statut")] == list(schema.ALERT_STATUSES)
    assert schema.ANNULEE in lists[old.index("statut")]
    assert lists[old.index("type")][-2:] == ["suite", "fin d'alerte"]
    types = [r[0] for r in sheets.values(key, schema.MODELES)[1:]]
    assert types == ["vol", "suite", "suite", "fin d'alerte", "fin d'alerte"]
    assert not register.initialise().changed


def test_initialiser_adds_follow_up_templates_to_an_older_sqlite_register(tmp_path):
    register = SQLiteRegister(tmp_path / "r.sqlite")
    register.initialise()
    modeles = register.read([schema.MODELES])[schema.MODELES]
    sequels = [r.key for r in modeles.rows if r.get("type") in schema.SEQUEL_TYPES]
    assert len(sequels) == 4
    register.write([CellChange(schema.MODELES, k, "type", "vol") for k in sequels])
    report = register.initialise()
    assert report.added_rows == ["Modeles : modèles des suites d'alerte"]
    assert not register.initialise().changed
    register.close()


# -- the report to the préfecture --------------------------------------------------------------


def test_report_shows_follow_ups_with_their_original_and_cancelled_alerts_with_counts():
    from datetime import date, datetime

    from sender.dates import PARIS
    from sender.reporting.document import render_report
    from sender.reporting.report import build_report

    base = {"service": "Commissariat de Mende", "agent": AGENT, "commune": "Mende"}
    rows = [
        {**base, "id": "1", "type": "vol", "faits_le": "12/03/2026 13:50",
         "signale_le": "12/03/2026 14:05", "statut": schema.DIFFUSEE,
         "diffusee_le": "12/03/2026 14:07", "destinataires": "40", "envoyes": "40",
         "echecs": "0", "motif": "Suite envoyée le 12/03/2026 à 16h00 (alerte n° 2)."},
        {**base, "id": "2", "type": "suite", "suite_de": "1", "commune": "",
         "statut": schema.DIFFUSEE, "diffusee_le": "12/03/2026 16:00",
         "destinataires": "38", "envoyes": "38", "echecs": "0"},
        {**base, "id": "3", "type": "cambriolage", "faits_le": "20/03/2026 09:00",
         "signale_le": "20/03/2026 09:30", "statut": schema.ANNULEE, "destinataires": "300",
         "envoyes": "140", "echecs": "0",
         "motif": "Annulée : 140 messages partis avant l'annulation ; les autres "
                  "destinataires ne la recevront pas."},
    ]
    report = build_report([], rows, list(schema.COLUMNS[schema.ALERTES]), {},
                          date(2026, 3, 1), date(2026, 3, 31),
                          datetime(2026, 4, 1, 9, 0, tzinfo=PARIS))
    assert [line.alert_id for line in report.broadcast] == ["1", "2"]
    assert report.broadcast[1].type_label == "Suite de l’alerte n° 1"
    (cancelled,) = report.cancelled
    assert (cancelled.alert_id, cancelled.recipients, cancelled.sent) == ("3", "300", "140")
    html = render_report(report)
    assert "<h2>Alertes annulées</h2>" in html and "Envoyés avant l’annulation" in html
    assert "<td>Suite de l’alerte n° 1</td>" in html
    assert "1 alerte annulée" in html and "1 suite d’alertes déjà diffusées" in html


@pytest.mark.slow
def test_progress_and_results_find_their_row_after_staff_insert_rows(sheets, tmp_path):
    """A clerk inserts a row above the alert while it is being sent: the progress writes and
    the results still land on the alert's row (rows are found by id), nothing else changes."""
    members = 40
    register, key = sheets_register(sheets)
    fill(register, members, alert=prevention_alert("7", statut=schema.DIFFUSEE, envoyes="3"))
    register.append(schema.ALERTES, [prevention_alert("1")])
    with TimedWhatsAppEmulator(latency=0.04) as wa:
        settings = whatsapp_settings(tmp_path, key, wa, concurrency=1, poll_seconds=0.25)
        sender = Sender(register, settings, console=quiet_console(), progress=False)
        thread = threading.Thread(target=sender.run_once)
        thread.start()
        try:
            deadline = time.monotonic() + 10
            while len(wa.accepted) < 10 and time.monotonic() < deadline:
                time.sleep(0.01)
            header = sheets.values(key, schema.ALERTES)[0]
            sheets.insert_rows(key, schema.ALERTES, 2, 1,
                               [[{"id": "99", "statut": "brouillon"}.get(c, "") for c in header]])
            thread.join(30)
        finally:
            sender.close()
    sent = alert_row(register, "1")
    assert (sent["statut"], sent["envoyes"]) == (schema.DIFFUSEE, str(members))
    assert alert_row(register, "7")["envoyes"] == "3"
    inserted = alert_row(register, "99")
    assert (inserted["envoyes"], inserted["motif"]) == ("", "")

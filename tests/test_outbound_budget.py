"""Outbound confirmations as a small, budgeted fallback, over real HTTP against the WhatsApp and
Brevo emulators, with a simulated clock (the sender's cycle time and the journal's wall time
move together, days in a few seconds): the per-channel budget, the foreign numbers, the bound
on what a harassment burst costs its victim, the monthly SMS ceiling, no SMS unless the person
asked for one, the fraud brake and its resumption, the counts and costs in `Etat`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
import requests

from sender import schema
from sender.cli.budget_commands import cmd_confirmations
from sender.consent.messages import TEMPLATES
from sender.consent.requests import ConfirmationRequest
from sender.dates import PARIS, format_iso
from sender.journal.journal import Journal
from sender.limits import Limits
from sender.register.sqlite import SQLiteRegister
from sender.runner import Sender
from support.emulators.smsgateway import SmsGatewayEmulator
from support.scenario import (
    TimedWhatsAppEmulator,
    fill,
    mobile,
    prevention_alert,
    quiet_console,
    whatsapp_settings,
)

SECRET = "secret-de-test-pour-les-liens-de-confirmation-0123456789"
HOUR = 3600.0
DAY = 24 * HOUR


class SimClock:
    """Simulated wall time, starting two days before the real one (a resumption stamped with
    the real time then comes after every simulated send)."""

    def __init__(self) -> None:
        self.t = datetime.now(PARIS).timestamp() - 2 * DAY

    def time(self) -> float:
        return self.t

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.t, PARIS)

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def wa():
    with TimedWhatsAppEmulator(latency=0.0) as emulator:
        for template in TEMPLATES.values():
            emulator.add_template(template, parameters=("date_limite", "lien"), quick_reply=True)
        yield emulator


@contextmanager
def world(tmp: Path, wa, clock: SimClock, limits: Limits, **overrides) -> Iterator[
        tuple[SQLiteRegister, Sender]]:
    register = SQLiteRegister(tmp / "registre.sqlite")
    fill(register, 3)  # three active members
    settings = whatsapp_settings(
        tmp, str(tmp / "registre.sqlite"), wa, secret=SECRET, site_url="https://alerte.example",
        limits=limits, **overrides,
    )
    sender = Sender(register, settings, console=quiet_console(), progress=False,
                    clock=clock.now, status_clock=clock.time)
    sender._journal = Journal(settings.journal, clock=clock.time)
    try:
        yield register, sender
    finally:
        sender.close()
        register.close()


def sign_up(register: SQLiteRegister, clock: SimClock, telephones: list[str], tag: str) -> None:
    register.append(schema.INSCRIPTIONS, [
        {"horodatage": format_iso(clock.now()), "source": "formulaire", "nom": f"{tag} {i}",
         "commune": "Mende", "telephone": telephone}
        for i, telephone in enumerate(telephones)
    ])


def rows(register: SQLiteRegister, tab: str = schema.INSCRIPTIONS) -> list[dict[str, str]]:
    return register.read([tab])[tab].as_dicts()


def etat(register: SQLiteRegister) -> dict[str, str]:
    return {row["cle"]: row["valeur"] for row in rows(register, schema.ETAT)}


def numbers(start: int, count: int) -> list[str]:
    return [f"07 56 {(start + i) // 10000:02d} {(start + i) // 100 % 100:02d} "
            f"{(start + i) % 100:02d}" for i in range(count)]


def test_the_budget_holds_confirmations_per_channel_but_never_an_alert(tmp_path, wa):
    clock = SimClock()
    with world(tmp_path, wa, clock, Limits(confirmations_per_day=5)) as (register, sender):
        sign_up(register, clock, numbers(100, 12), "Demande")
        register.append(schema.ALERTES, [prevention_alert()])
        report = sender.run_once()
        assert report.confirmations_sent == 5
        sender.run_once()  # the remarks say why at the next cycle
        alerted = [a for a in wa.accepted if ":confirmation-" not in (a.callback or "")]
        assert len(alerted) == 3, "the alert reached its 3 members whatever the budget"
        held = [r["remarque"] for r in rows(register) if r["nom"].startswith("Demande")]
        assert sum("budget de 5 messages de confirmation par 24 h atteint" in r
                   for r in held) == 7
        clock.advance(12 * HOUR)
        assert sender.run_once().confirmations_sent == 0  # the window is rolling
        clock.advance(12 * HOUR + 60)
        assert sender.run_once().confirmations_sent == 5
        lines = etat(register)
        assert "confirmations : 5 WhatsApp" in lines["envois_jour"]
        assert "estimation indicative" in lines["envois_jour"]
        assert lines["confirmations_sortantes"].startswith("en service : WhatsApp 5 sur 5")


def test_foreign_numbers_in_the_register_never_get_a_message(tmp_path, wa):
    clock = SimClock()
    with world(tmp_path, wa, clock, Limits()) as (register, sender):
        sign_up(register, clock, ["+44 7911 123456", "+850 191 123 4567", "+262 692 12 34 56"],
                "Ailleurs")
        assert sender.run_once().confirmations_sent == 1
        sender.run_once()
        (to,) = [a.to for a in wa.accepted]
        assert to == "262692123456"
        remarks = {r["telephone"]: r["remarque"] for r in rows(register)
                   if r["nom"].startswith("Ailleurs")}
        assert "autre pays" in remarks["+44 7911 123456"]


def _victim_messages(register, sender, wa, clock, bursts_until: float, hours: float,
                     spellings: list[str], victim: str) -> list[float]:
    """Run a cycle every 4 simulated hours for `hours`, typing the victim's number in every
    spelling until `bursts_until` hours; the simulated times of the victim's messages."""
    sent_at: list[float] = []
    hour = 0.0
    while hour < hours:
        if hour < bursts_until:
            sign_up(register, clock, spellings, f"Harcèlement {hour:g}")
        before = sum(a.to == victim for a in wa.accepted)
        sender.run_once()
        sent_at += [clock.t] * (sum(a.to == victim for a in wa.accepted) - before)
        clock.advance(4 * HOUR)
        hour += 4
    return sent_at


SPELLINGS = ["07 56 12 99 99", "+33756129999", "0033 7 56 12 99 99", "07.56.12.99.99",
             "+33 (0)7 56 12 99 99"]


@pytest.mark.slow
def test_a_harassment_campaign_costs_its_victim_one_message_a_day_three_a_week(tmp_path, wa):
    """Someone types the victim's number in every spelling every 4 hours for ten days: at most
    1 message per rolling 24 h and 3 per rolling 7 days."""
    clock = SimClock()
    with world(tmp_path, wa, clock, Limits()) as (register, sender):
        sent_at = _victim_messages(register, sender, wa, clock, 10 * 24, 10 * 24, SPELLINGS,
                                   "33756129999")
    for i, moment in enumerate(sent_at):
        assert sum(moment - DAY < t <= moment for t in sent_at[: i + 1]) <= 1
        assert sum(moment - 7 * DAY < t <= moment for t in sent_at[: i + 1]) <= 3
    assert len(sent_at) >= 3, "the bound holds, it is not zero"


def test_one_burst_gives_its_victim_one_message_never_more(tmp_path, wa):
    """One burst of sign-ups for the same number (spellings, names): one outstanding request,
    one message, and nothing on the following days (before: 3, then more at +25 h, +49 h…)."""
    clock = SimClock()
    with world(tmp_path, wa, clock, Limits()) as (register, sender):
        sent_at = _victim_messages(register, sender, wa, clock, 1, 9 * 24, SPELLINGS * 4,
                                   "33756129999")
    assert len(sent_at) == 1


def test_the_monthly_sms_ceiling_stops_sms_confirmations_not_alerts(tmp_path, wa):
    clock = SimClock()
    with SmsGatewayEmulator(api_key="cle-sms") as gateway, world(
        tmp_path, wa, clock, Limits(sms_parts_per_month=4), channel="sms",
        sms_api_key="cle-sms", sms_api=gateway.api_url,
    ) as (register, sender):
        sign_up(register, clock, numbers(300, 8), "Sms")
        report = sender.run_once()
        assert 1 <= report.confirmations_sent <= 4
        parts = sum(sms.sms_count for sms in gateway.accepted)
        assert parts >= 4
        assert etat(register)["confirmations_sortantes"].startswith(
            "ATTENTION : plafond mensuel de SMS atteint")
        sender.run_once()  # the remarks say why at the next cycle
        assert any("plafond mensuel de SMS atteint" in r["remarque"] for r in rows(register))
        register.append(schema.ALERTES, [prevention_alert()])
        before = len(gateway.accepted)
        sender.run_once()
        assert len(gateway.accepted) == before + 3  # alerts still go out by SMS
        assert "alertes : 3 SMS" in etat(register)["envois_jour"]


def test_with_bloquer_the_ceiling_also_stops_the_sms_fallback_of_alerts(tmp_path, wa):
    clock = SimClock()
    with SmsGatewayEmulator(api_key="cle-sms") as gateway, world(
        tmp_path, wa, clock, Limits(sms_parts_per_month=0, sms_alerts_blocked=True),
        sms_api_key="cle-sms", sms_api=gateway.api_url, sms_fallback=True,
    ) as (register, sender):
        wa.not_on_whatsapp(mobile(0))
        register.append(schema.ALERTES, [prevention_alert()])
        sender.run_once()
        assert gateway.accepted == []
    with SmsGatewayEmulator(api_key="cle-sms") as gateway, world(
        tmp_path / "b", wa, clock, Limits(sms_parts_per_month=0),
        sms_api_key="cle-sms", sms_api=gateway.api_url, sms_fallback=True,
    ) as (register, sender):
        register.append(schema.ALERTES, [prevention_alert()])
        sender.run_once()
        assert len(gateway.accepted) == 1  # « envoyer » (default): the alert's SMS goes


def test_sms_only_when_the_person_asked_for_it(tmp_path, wa):
    """WhatsApp refusing a number never makes an SMS; a request flagged `envoi_demande` (the
    « Je n'ai pas WhatsApp : recevoir un SMS » button) goes by SMS, once."""
    clock = SimClock()
    with SmsGatewayEmulator(api_key="cle-sms") as gateway, world(
        tmp_path, wa, clock, Limits(), sms_api_key="cle-sms", sms_api=gateway.api_url,
        sms_fallback=True,
    ) as (register, sender):
        wa.not_on_whatsapp("+33756000001")
        sign_up(register, clock, ["07 56 00 00 01"], "Refusé")
        sender.run_once()
        clock.advance(2 * DAY)
        sender.run_once()
        assert gateway.accepted == []
        confirmations = sender._confirmations
        assert confirmations is not None
        asked = ConfirmationRequest("inscription", "asked", "+33756000002", clock.now(), None,
                                    envoi_demande=True)
        report = confirmations.send([asked], [], clock.now())
        assert report.sent == 1
        (sms,) = gateway.accepted
        assert sms.numero.lstrip("+") == "33756000002" and "/confirmer?jeton=" in sms.content
        confirmations.send([asked], [], clock.now())
        assert len(gateway.accepted) == 1


def test_the_fraud_brake_pauses_confirmations_until_resumed(tmp_path, wa):
    clock = SimClock()
    with world(tmp_path, wa, clock, Limits(confirmations_per_day=30)) as (register, sender):
        sign_up(register, clock, numbers(500, 22), "Pompage")
        assert sender.run_once().confirmations_sent == 22
        clock.advance(7 * HOUR)
        sign_up(register, clock, numbers(600, 3), "Plus tard")
        assert sender.run_once().confirmations_sent == 0
        state = etat(register)["confirmations_sortantes"]
        assert state.startswith("ATTENTION : envois de confirmation en pause")
        assert "20 des 20 derniers messages" in state and "--reprendre" in state
        sender.close()
        args = type("Args", (), {"reprendre": True})()
        assert cmd_confirmations(args, replace(sender.settings)) == 0
        assert sender.run_once().confirmations_sent == 3
        assert etat(register)["confirmations_sortantes"].startswith("en service")


# -- « Je n'ai pas WhatsApp : recevoir un SMS » (reverse confirmation) ----------------------


NETWORK = "33466000000"


@contextmanager
def reverse_intake(tmp: Path, register: SQLiteRegister, settings) -> Iterator[str]:
    """The intake with reverse confirmation and the SMS request button, on 127.0.0.1."""
    from sender.consent.tokens import load_secret
    from sender.intake.app import create_app
    from sender.journal.asked import SmsRequests
    from support.scenario import ROOT
    from support.site import running

    site = tmp / "site"
    site.mkdir(exist_ok=True)
    store = SmsRequests(settings.journal)
    app = create_app(register, site, ROOT / "site" / "templates",
                     secret=lambda: load_secret(settings), whatsapp_number=NETWORK,
                     sms_requests=lambda: store)
    try:
        with running(app) as url:
            yield url
    finally:
        store.close()


def test_the_sms_button_sends_one_sms_and_only_on_request(tmp_path, wa):
    clock = SimClock()
    with SmsGatewayEmulator(api_key="cle-sms") as gateway, world(
        tmp_path, wa, clock, Limits(), sms_api_key="cle-sms", sms_api=gateway.api_url,
        sms_fallback=True, whatsapp_numero_public=NETWORK,
    ) as (register, sender), reverse_intake(tmp_path, register, sender.settings) as url:
        form = {"nom": "Sans WhatsApp", "entreprise": "Forge", "activite": schema.ACTIVITES[0],
                "commune": "Mende", "consentement": "oui"}
        page = requests.post(url + "inscription", data={**form, "telephone": "07 56 44 00 01"},
                             timeout=10)
        other = requests.post(url + "inscription", timeout=10,
                              data={**form, "nom": "Autre", "telephone": "07 56 44 00 02"})
        assert "Je n’ai pas WhatsApp" in page.text and "Je n’ai pas WhatsApp" in other.text
        (code,) = re.findall(r'name="code" value="(\d{6})"', page.text)
        sender.run_once()
        assert gateway.accepted == [] and wa.accepted == []  # nothing by itself
        foreign_site = requests.post(url + "demande-sms", timeout=10,
                                     data={"type": "inscription", "code": code},
                                     headers={"Origin": "https://ailleurs.example"})
        assert foreign_site.status_code == 403
        assert requests.post(url + "demande-sms", data={"type": "x", "code": "12"},
                             timeout=10).status_code == 400
        assert requests.get(url + "demande-sms", timeout=10).status_code == 405
        asked = requests.post(url + "demande-sms", data={"type": "inscription", "code": code},
                              timeout=10)
        assert asked.status_code == 200 and "Demande de SMS enregistrée" in asked.text
        assert sender.run_once().confirmations_sent == 1
        (sms,) = gateway.accepted
        assert sms.numero.lstrip("+") == "33756440001" and "/confirmer?jeton=" in sms.content
        assert "confirmations : 1 SMS (2 parties)" in etat(register)["envois_jour"]
        requests.post(url + "demande-sms", data={"type": "inscription", "code": code},
                      timeout=10)
        clock.advance(2 * DAY)
        sender.run_once()
        assert len(gateway.accepted) == 1 and wa.accepted == []  # one SMS, once


def test_with_bloquer_and_the_sms_channel_the_alert_waits_en_cours(tmp_path, wa):
    clock = SimClock()
    with SmsGatewayEmulator(api_key="cle-sms") as gateway, world(
        tmp_path, wa, clock, Limits(sms_parts_per_month=0, sms_alerts_blocked=True),
        channel="sms", sms_api_key="cle-sms", sms_api=gateway.api_url,
    ) as (register, sender):
        register.append(schema.ALERTES, [prevention_alert()])
        sender.run_once()
        assert gateway.accepted == []
        (alert,) = rows(register, schema.ALERTES)
        assert alert["statut"] == schema.EN_COURS
        assert "plafond mensuel de SMS atteint" in alert["motif"]
        sender.settings = replace(sender.settings, limits=Limits(sms_parts_per_month=100,
                                                                 sms_alerts_blocked=True))
        sender.run_once()  # the ceiling raised: the alert goes
        assert len(gateway.accepted) == 3
        (alert,) = rows(register, schema.ALERTES)
        assert alert["statut"] == schema.DIFFUSEE

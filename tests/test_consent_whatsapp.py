"""Confirmation messages through WhatsApp (real requests against the emulator): an approved
utility template with a quick-reply button carrying the token, after the alerts, within the
daily limit of unique numbers, never at the expense of an alert; the member's tap on the button
comes back as a signed webhook (real HTTP to the intake's `/webhooks/whatsapp`) and confirms."""

from __future__ import annotations

from contextlib import closing
from dataclasses import replace
from pathlib import Path

import pytest

from sender import schema
from sender.consent.messages import TEMPLATES
from sender.register.sheets.client import GoogleSheetsRegister
from sender.register.sqlite import SQLiteRegister
from sender.runner import Sender
from support.emulators.sheets import SheetsEmulator
from support.emulators.smsgateway import SmsGatewayEmulator
from support.scenario import (
    APP_SECRET,
    TimedWhatsAppEmulator,
    alert_row,
    fill,
    mobile,
    prevention_alert,
    quiet_console,
    sheets_register,
    webhook_receiver,
    whatsapp_settings,
)

SECRET = "secret-de-test-pour-les-liens-de-confirmation-0123456789"


def signups(register: SQLiteRegister | GoogleSheetsRegister, count: int) -> None:
    register.append(schema.INSCRIPTIONS, [
        {"horodatage": "2026-11-29T10:0{i}:00+01:00", "source": "formulaire",
         "nom": f"Nouveau {i}", "commune": "Mende", "telephone": f"07 56 12 34 5{i}"}
        for i in range(count)
    ])


@pytest.fixture
def wa():
    with TimedWhatsAppEmulator(latency=0.0) as emulator:
        for template in TEMPLATES.values():
            emulator.add_template(template, parameters=("date_limite", "lien"), quick_reply=True)
        yield emulator


def make_sender(
    tmp: Path, wa, limit: int, *, webhooks: bool = False
) -> tuple[SQLiteRegister, Sender]:
    register = SQLiteRegister(tmp / "registre.sqlite")
    fill(register, 3)  # three active members, already clean
    settings = whatsapp_settings(tmp, str(tmp / "registre.sqlite"), wa, daily_limit=limit,
                                 secret=SECRET, site_url="https://alerte.example",
                                 whatsapp_app_secret=APP_SECRET if webhooks else None)
    return register, Sender(register, settings, console=quiet_console(), progress=False)


def signup_row(register: SQLiteRegister, nom: str) -> dict[str, str]:
    (row,) = [r for r in register.read([schema.INSCRIPTIONS])[schema.INSCRIPTIONS].as_dicts()
              if r["nom"] == nom]
    return row


def test_template_carries_the_link_and_the_button_payload(tmp_path: Path, wa):
    register, sender = make_sender(tmp_path, wa, limit=1000)
    signups(register, 1)
    with closing(sender):
        report = sender.run_once()
    assert report.confirmations_sent == 1
    (message,) = wa.accepted
    assert message.template == TEMPLATES["inscription"]
    assert message.parameters["lien"] == (
        "https://alerte.example/confirmer?jeton=" + message.button_payload
    )
    assert message.parameters["date_limite"].count("/") == 2
    register.close()


def test_alerts_go_first_and_confirmations_never_crowd_them_out(tmp_path: Path, wa):
    register, sender = make_sender(tmp_path, wa, limit=3)
    signups(register, 2)
    with closing(sender):
        idle = sender.run_once()
        assert wa.accepted == [], "3 members, a limit of 3: nothing left for confirmations"
        assert idle.confirmations_sent == 0
        assert any("réservé aux alertes" in note for note in idle.notes)

        register.append(schema.ALERTES, [prevention_alert("1")])
        sender.run_once()
        assert alert_row(register, "1")["statut"] == schema.DIFFUSEE
        assert sorted(a.to for a in wa.accepted) == sorted(mobile(i)[1:] for i in range(3))
    register.close()


def test_room_left_by_the_alerts_goes_to_confirmations_after_them(tmp_path: Path, wa):
    register, sender = make_sender(tmp_path, wa, limit=4)
    signups(register, 2)
    register.append(schema.ALERTES, [prevention_alert("1")])
    with closing(sender):
        report = sender.run_once()
        assert report.confirmations_sent == 1
        templates = [a.template for a in wa.accepted]
        assert templates[:3] == ["prevention_commercants"] * 3  # the alert first
        assert templates[3:] == [TEMPLATES["inscription"]]
        assert sender.run_once().confirmations_sent == 0  # the limit is reached for today
    register.close()


# -- the « Je confirme » button, through the webhook ------------------------------------------


def test_tapping_the_button_makes_the_member_actif_then_alerted(tmp_path: Path, wa):
    register, sender = make_sender(tmp_path, wa, limit=1000, webhooks=True)
    signups(register, 1)
    numero = "+33756123450"
    with closing(sender), webhook_receiver(tmp_path / "journal.sqlite") as url:
        assert sender.run_once().confirmations_sent == 1
        assert signup_row(register, "Nouveau 0")["statut"] == schema.EN_ATTENTE
        wa.webhooks(url, APP_SECRET, delay=0.0)
        wa.tap_button(numero)  # Meta posts `type: button` with the token as payload, signed
        assert wa.flush_webhooks()
        assert signup_row(register, "Nouveau 0")["confirme_le"] == ""  # the cycle confirms

        report = sender.run_once()
        assert report.button_confirmations == 1
        assert "1 confirmation reçue par WhatsApp" in report.summary()
        row = signup_row(register, "Nouveau 0")
        assert row["statut"] == schema.ACTIF and row["confirme_le"]

        register.append(schema.ALERTES, [prevention_alert("1")])
        sender.run_once()
        assert alert_row(register, "1")["statut"] == schema.DIFFUSEE
        alerted = [a.to for a in wa.accepted if a.template == "prevention_commercants"]
        assert numero[1:] in alerted
    register.close()


def test_a_second_tap_or_a_replayed_webhook_changes_nothing(tmp_path: Path, wa):
    register, sender = make_sender(tmp_path, wa, limit=1000, webhooks=True)
    signups(register, 1)
    with closing(sender), webhook_receiver(tmp_path / "journal.sqlite") as url:
        sender.run_once()
        wa.webhooks(url, APP_SECRET, delay=0.0)
        wa.tap_button("+33756123450")
        assert wa.flush_webhooks()
        assert sender.run_once().button_confirmations == 1
        stamp = signup_row(register, "Nouveau 0")["confirme_le"]

        wa.tap_button("+33756123450")  # the member taps again the next day
        assert wa.flush_webhooks()
        again = sender.run_once()
        assert again.button_confirmations == 0
        assert signup_row(register, "Nouveau 0")["confirme_le"] == stamp
        assert sender.run_once().button_confirmations == 0  # each tap is handled once
    register.close()


def test_without_a_tap_the_member_stays_en_attente_and_is_never_alerted(tmp_path: Path, wa):
    register, sender = make_sender(tmp_path, wa, limit=1000, webhooks=True)
    signups(register, 1)
    with closing(sender), webhook_receiver(tmp_path / "journal.sqlite") as url:
        sender.run_once()
        wa.webhooks(url, APP_SECRET, delay=0.0)
        wa.incoming_text("+33756123450", "oui je confirme")  # text is not the button
        assert wa.flush_webhooks()
        register.append(schema.ALERTES, [prevention_alert("1")])
        report = sender.run_once()
        assert report.button_confirmations == 0
        assert signup_row(register, "Nouveau 0")["statut"] == schema.EN_ATTENTE
        alerted = [a.to for a in wa.accepted if a.template == "prevention_commercants"]
        assert "33756123450" not in alerted and len(alerted) == 3
    register.close()


def test_a_tap_costs_google_sheets_one_read_and_one_write_with_its_look(
    tmp_path: Path, wa, sheets: SheetsEmulator
):
    register, key = sheets_register(sheets)
    fill(register, 3)
    signups(register, 1)
    settings = whatsapp_settings(tmp_path, key, wa, secret=SECRET,
                                 site_url="https://alerte.example",
                                 whatsapp_app_secret=APP_SECRET)
    sender = Sender(register, settings, console=quiet_console(), progress=False)
    with closing(sender), webhook_receiver(tmp_path / "journal.sqlite") as url:
        assert sender.run_once().confirmations_sent == 1
        sender.run_once()  # statuses and heartbeat settled: the next poll is idle
        wa.webhooks(url, APP_SECRET, delay=0.0)
        wa.tap_button("+33756123450")
        assert wa.flush_webhooks()
        sheets.reset_counts()
        assert sender.run_once().button_confirmations == 1
        # the tap: read of the request tabs, look, write of `confirme_le`; then the cycle:
        # read, look, write of the cleaning (`actif`)
        assert sheets.total_requests == 3 + 3
        sheets.reset_counts()
        sender.run_once()
        assert sheets.total_requests == 1  # handled taps cost nothing more


def test_a_confirmation_whatsapp_reports_failed_never_turns_into_an_sms(tmp_path: Path, wa):
    """Accepted by WhatsApp, then a `failed` status (131026: no WhatsApp on this number): no
    SMS follows by itself (that would let anyone make the CMA pay for SMS to numbers of his
    choosing); the remark says the message could not be sent."""
    register, sender = make_sender(tmp_path, wa, limit=1000, webhooks=True)
    sender.close()
    signups(register, 1)
    numero = "+33756123450"
    with SmsGatewayEmulator(api_key="cle-sms") as gateway, \
            webhook_receiver(tmp_path / "journal.sqlite") as url:
        settings = replace(sender.settings, sms_api_key="cle-sms", sms_api=gateway.api_url,
                           sms_fallback=True)
        wa.webhooks(url, APP_SECRET, delay=0.0, failed={numero: 131026})
        with closing(Sender(register, settings, console=quiet_console(),
                            progress=False)) as again:
            assert again.run_once().confirmations_sent == 1  # accepted by WhatsApp
            assert wa.flush_webhooks() and gateway.accepted == []
            again.run_once()
            again.run_once()
            assert gateway.accepted == []
            assert len(wa.accepted) == 1  # and never sent again on WhatsApp either
            assert "n'a pas pu" in signup_row(register, "Nouveau 0")["remarque"]
    register.close()

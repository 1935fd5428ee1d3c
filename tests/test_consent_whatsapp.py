"""Confirmation messages through WhatsApp (real requests against the emulator): an approved
utility template with a quick-reply button carrying the token, after the alerts, within the
daily limit of unique numbers, never at the expense of an alert."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import pytest

from sender import schema
from sender.consent.messages import TEMPLATES
from sender.register.sqlite import SQLiteRegister
from sender.runner import Sender
from support.scenario import (
    TimedWhatsAppEmulator,
    alert_row,
    fill,
    mobile,
    prevention_alert,
    quiet_console,
    whatsapp_settings,
)

SECRET = "secret-de-test-pour-les-liens-de-confirmation-0123456789"


def signups(register: SQLiteRegister, count: int) -> None:
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


def make_sender(tmp: Path, wa, limit: int) -> tuple[SQLiteRegister, Sender]:
    register = SQLiteRegister(tmp / "registre.sqlite")
    fill(register, 3)  # three active members, already clean
    settings = whatsapp_settings(tmp, str(tmp / "registre.sqlite"), wa, daily_limit=limit,
                                 secret=SECRET, site_url="https://alerte.example")
    return register, Sender(register, settings, console=quiet_console(), progress=False)


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

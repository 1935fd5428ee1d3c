"""Meta's view of the account, read from Meta rather than typed in: template statuses from
`message_template_status_update` webhooks, the messaging limit and quality rating from the API
(`surveiller`, at start and hourly) and from `phone_number_quality_update` webhooks; all kept
in the journal file and shown in `Etat`. An alert whose template Meta paused goes by SMS when
SMS is configured, else becomes « erreur » before any message."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest

from sender import schema
from sender.delivery.account import parse_account, read_account
from sender.delivery.store import DeliveryStore
from sender.runner import Sender
from support.emulators.smsgateway import SmsGatewayEmulator
from support.emulators.webhooks import account_envelope
from support.scenario import (
    APP_SECRET,
    VERIFY_TOKEN,
    TimedWhatsAppEmulator,
    alert_row,
    prevention_alert,
    quiet_console,
    sqlite_register,
    webhook_receiver,
    whatsapp_settings,
)

MEMBERS = 6
SMS_KEY = "cle-sms-de-test"


@pytest.fixture
def world(tmp_path: Path):
    path = tmp_path / "registre.sqlite"
    register = sqlite_register(path, MEMBERS, alert=prevention_alert())
    journal = tmp_path / "journal.sqlite"
    with TimedWhatsAppEmulator() as wa, webhook_receiver(journal) as url:
        wa.webhooks(url, APP_SECRET, delay=0.01)
        settings = whatsapp_settings(tmp_path, str(path), wa, whatsapp_app_secret=APP_SECRET,
                                     whatsapp_verify_token=VERIFY_TOKEN, status_wait=0.2)
        yield register, wa, settings, journal
    register.close()


def cycle(register, settings) -> Sender:
    sender = Sender(register, settings, console=quiet_console(), progress=False)
    try:
        sender.run_once()
    finally:
        sender.close()
    return sender


def etat(register) -> dict[str, str]:
    table = register.read([schema.ETAT])[schema.ETAT]
    return {row.get("cle"): row.get("valeur") for row in table.rows}


def test_a_paused_template_without_sms_makes_erreur_before_any_message(world):
    register, wa, settings, _journal = world
    wa.set_template_status("prevention_commercants", "PAUSED", reason="LOW_QUALITY")
    assert wa.flush_webhooks()
    cycle(register, settings)
    row = alert_row(register)
    assert row["statut"] == schema.ERREUR
    assert "prevention_commercants" in row["motif"] and "PAUSED" in row["motif"]
    assert "WhatsApp Manager" in row["motif"]
    assert wa.accepted == []  # nothing left
    assert "prevention_commercants (fr) : PAUSED (LOW_QUALITY)" in etat(register)[
        "modeles_whatsapp"]


def test_a_paused_template_goes_entirely_by_sms_when_sms_is_configured(world):
    register, wa, settings, _journal = world
    with SmsGatewayEmulator(api_key=SMS_KEY) as sms:
        settings = replace(settings, sms_api_key=SMS_KEY, sms_api=sms.api_url,
                           sms_fallback=True)
        wa.set_template_status("prevention_commercants", "DISABLED")
        assert wa.flush_webhooks()
        cycle(register, settings)
        row = alert_row(register)
        assert row["statut"] == schema.DIFFUSEE, row["motif"]
        assert row["motif"].startswith("Envoyée par SMS seulement : le modèle WhatsApp "
                                       "« prevention_commercants » (fr) est DISABLED")
        assert len(sms.accepted) == MEMBERS and wa.accepted == []


@pytest.mark.slow
def test_a_reinstated_template_carries_alerts_again(world):
    register, wa, settings, _journal = world
    wa.set_template_status("prevention_commercants", "PAUSED")
    assert wa.flush_webhooks()
    time.sleep(1.01)  # Meta's entry `time` is in seconds: the reinstatement comes later
    wa.set_template_status("prevention_commercants", "REINSTATED")
    assert wa.flush_webhooks()
    cycle(register, settings)
    assert alert_row(register)["statut"] == schema.DIFFUSEE
    assert len(wa.accepted) == MEMBERS


def test_the_limit_is_read_from_meta_and_the_setting_only_overrides_it(world):
    register, _wa, settings, _journal = world
    sender = Sender(register, replace(settings, daily_limit=250, daily_limit_from_meta=True),
                    console=quiet_console(), progress=False)
    try:
        sender.refresh_account()
        sender.run_once()
        assert sender.channels.daily_limit == 2000  # TIER_2K, as the API reports it
    finally:
        sender.close()
    shown = etat(register)
    assert shown["whatsapp_plafond"].startswith("TIER_2K (2000 destinataires")
    assert shown["whatsapp_qualite"] == "GREEN"
    fixed = Sender(register, replace(settings, daily_limit=300, daily_limit_from_meta=False),
                   console=quiet_console(), progress=False)
    try:
        fixed.run_once()
        assert fixed.channels.daily_limit == 300  # WHATSAPP_PLAFOND_JOURNALIER wins
    finally:
        fixed.close()


def test_a_quality_drop_shows_attention_in_etat_and_lowers_the_limit(world):
    register, wa, settings, _journal = world
    settings = replace(settings, daily_limit_from_meta=True)
    sender = Sender(register, settings, console=quiet_console(), progress=False)
    try:
        sender.refresh_account()  # GREEN, TIER_2K
        wa.quality_update("DOWNGRADE", "TIER_250", quality="YELLOW")
        assert wa.flush_webhooks()
        sender.refresh_account()  # the next hourly read: YELLOW
        sender.run_once()
        assert sender.channels.daily_limit == 250
    finally:
        sender.close()
    shown = etat(register)
    assert shown["whatsapp_qualite"].startswith("ATTENTION : qualité du numéro WhatsApp "
                                                "YELLOW (était GREEN)")
    assert shown["whatsapp_plafond"].startswith("TIER_250")


def test_an_unreachable_api_never_stops_a_cycle(world, caplog):
    register, _wa, settings, _journal = world
    sender = Sender(register, replace(settings, whatsapp_token="mauvais"),
                    console=quiet_console(), progress=False)
    try:
        sender.refresh_account()
        sender.refresh_account()
    finally:
        sender.close()
    assert sum("plafond WhatsApp non lu" in r.message for r in caplog.records) == 1


def test_account_webhooks_are_parsed_and_stored(tmp_path: Path):
    payload = account_envelope("business_capability_update",
                               {"max_daily_conversations_per_business": -1})
    events = parse_account(payload)
    assert events.values == {"plafond": "TIER_UNLIMITED"}
    flagged = parse_account(account_envelope("message_template_status_update", {
        "event": "FLAGGED", "message_template_name": "alerte_commercants",
        "message_template_language": "fr", "reason": None}))
    store = DeliveryStore(tmp_path / "journal.sqlite")
    store.open_or_create()
    from sender.delivery.account import save_account

    save_account(store, events, now=time.time())
    save_account(store, flagged)
    account = read_account(store)
    store.close()
    assert account.unlimited and account.daily_limit is None
    assert account.blocked("alerte_commercants", "fr") is None  # FLAGGED still sends
    assert parse_account({"object": "autre"}).values == {}
    # an older status arriving late does not replace a newer one
    late = parse_account(account_envelope("message_template_status_update", {
        "event": "PAUSED", "message_template_name": "alerte_commercants",
        "message_template_language": "fr"}))
    late.templates[0] = replace(late.templates[0], received_at=1.0)
    store = DeliveryStore(tmp_path / "journal.sqlite")
    save_account(store, late)
    assert read_account(store).blocked("alerte_commercants", "fr") is None
    store.close()
    assert not parse_account({"object": "whatsapp_business_account", "entry": [
        {"changes": [{"field": "message_template_status_update", "value": []}]}]})

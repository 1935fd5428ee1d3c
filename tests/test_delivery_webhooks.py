"""Status webhooks over real HTTP: the WhatsApp emulator posts signed statuses and members'
messages to the sender's webhook (waitress on 127.0.0.1); the sender's cycles turn them into
journal states, `remis`/`lus` counts, SMS fallbacks and opt-outs.

No assertion depends on timing: the tests wait for the emulator's queue of webhooks to drain
(`flush_webhooks`), then look at what was stored.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import replace
from pathlib import Path

import pytest
import requests

from sender import schema
from sender.delivery.signature import sign
from sender.journal.journal import Journal
from sender.journal.states import FAILED, SENT
from sender.register.sqlite import SQLiteRegister
from sender.runner import Sender
from support.emulators.smsgateway import SmsGatewayEmulator
from support.emulators.webhooks import envelope, status_item, text_message
from support.scenario import (
    APP_SECRET,
    PHONE_ID,
    VERIFY_TOKEN,
    TimedWhatsAppEmulator,
    alert_row,
    mobile,
    prevention_alert,
    quiet_console,
    sqlite_register,
    webhook_receiver,
    whatsapp_settings,
)

MEMBERS = 12
SMS_KEY = "cle-sms-de-test"


def _statuts(journal: Path) -> int:
    with sqlite3.connect(journal) as conn:
        return conn.execute("SELECT COUNT(*) FROM statuts").fetchone()[0]


def _post(url: str, payload: object, secret: str | None = APP_SECRET) -> requests.Response:
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Hub-Signature-256"] = sign(body, secret)
    return requests.post(url, data=body, headers=headers, timeout=10)


@pytest.fixture
def world(tmp_path: Path):
    """A register of MEMBERS members and one prevention alert, the WhatsApp emulator posting
    webhooks to the sender's receiver, and settings with webhooks configured."""
    path = tmp_path / "registre.sqlite"
    register = sqlite_register(path, MEMBERS, alert=prevention_alert())
    journal = tmp_path / "journal.sqlite"
    with TimedWhatsAppEmulator() as wa, webhook_receiver(journal) as url:
        settings = whatsapp_settings(
            tmp_path, str(path), wa, whatsapp_app_secret=APP_SECRET,
            whatsapp_verify_token=VERIFY_TOKEN, status_wait=0.2, http_timeout=1.0,
        )
        yield register, wa, url, settings, journal
    register.close()


def _sender(register, settings, status_clock=time.time) -> Sender:
    return Sender(
        register, settings, console=quiet_console(), progress=False, status_clock=status_clock
    )


def _cycle(register, settings, status_clock=time.time) -> None:
    sender = _sender(register, settings, status_clock)
    try:
        sender.run_once()
    finally:
        sender.close()


# -- the endpoint ----------------------------------------------------------------------------


def test_handshake_answers_the_challenge_only_with_our_verify_token(tmp_path):
    with webhook_receiver(tmp_path / "journal.sqlite") as url:
        query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN,
                 "hub.challenge": "1158201444"}
        ok = requests.get(url, params=query, timeout=10)
        assert ok.status_code == 200 and ok.text == "1158201444"
        wrong = requests.get(url, params={**query, "hub.verify_token": "autre"}, timeout=10)
        assert wrong.status_code == 403
        assert requests.get(url, params={**query, "hub.mode": "x"}, timeout=10).status_code == 403


def test_unsigned_or_badly_signed_posts_are_refused_and_nothing_is_stored(tmp_path):
    journal = tmp_path / "journal.sqlite"
    payload = envelope("messages", {"statuses": [
        status_item("wamid.X", "delivered", "33600000000", None)]}, PHONE_ID)
    with webhook_receiver(journal) as url:
        assert _post(url, payload, secret=None).status_code == 403
        assert _post(url, payload, secret="un-autre-secret").status_code == 403
        body = json.dumps(payload).encode()
        tampered = requests.post(url, data=body + b" ", timeout=10,
                                 headers={"X-Hub-Signature-256": sign(body, APP_SECRET)})
        assert tampered.status_code == 403
        assert not journal.exists() or _statuts(journal) == 0
        assert _post(url, payload).status_code == 200
        assert _post(url, payload).status_code == 200  # Meta's duplicate: answered the same
    assert _statuts(journal) == 0  # a message this journal never sent: nothing is kept


def test_signed_but_unreadable_or_foreign_payloads(tmp_path):
    journal = tmp_path / "journal.sqlite"
    with webhook_receiver(journal) as url:
        body = b"{pas du json"
        bad = requests.post(url, data=body, timeout=10,
                            headers={"X-Hub-Signature-256": sign(body, APP_SECRET)})
        assert bad.status_code == 400
        # a well-signed payload we do not use is acknowledged (or Meta sends it for a week)
        assert _post(url, {"object": "page", "entry": []}).status_code == 200


def test_without_app_secret_every_post_is_refused(tmp_path):
    from sender.delivery.store import DeliveryStore
    from sender.intake.webhook import WebhookEndpoint

    endpoint = WebhookEndpoint(lambda: DeliveryStore(tmp_path / "j.sqlite"),
                               verify_token=None, app_secret=None)
    environ = {"CONTENT_LENGTH": "2", "wsgi.input": __import__("io").BytesIO(b"{}"),
               "HTTP_X_HUB_SIGNATURE_256": sign(b"{}", "")}
    assert endpoint.post(environ).status == 403
    assert endpoint.get({"QUERY_STRING": "hub.mode=subscribe&hub.challenge=1"}).status == 403


# -- statuses: remis, lus, duplicates, disorder ----------------------------------------------


def test_statuses_in_any_order_and_duplicated_converge_into_remis_and_lus(world):
    register, wa, url, settings, journal = world
    wa.webhooks(url, APP_SECRET, delay=0.01, duplicate=1.0, reorder=0.5, read=0.5, seed=7)
    _cycle(register, settings)
    assert alert_row(register)["statut"] == schema.DIFFUSEE
    assert wa.flush_webhooks()
    assert wa.poster is not None and wa.poster.answers[200] == wa.poster.posted
    read = sum(1 for a in wa.accepted if _delivery(journal, a.to) == "read")
    with Journal(journal) as j:
        entries = j.entries("1")
    assert {e.delivery for e in entries} <= {"delivered", "read"}
    assert all(e.state == SENT for e in entries)
    _cycle(register, settings)  # the next poll writes the counts
    row = alert_row(register)
    assert row["remis"] == str(MEMBERS) and row["lus"] == str(read)
    assert row["envoyes"] == str(MEMBERS) and row["echecs"] == "0"
    assert wa.duplicates() == 0


def _delivery(journal: Path, to: str) -> str | None:
    with Journal(journal) as j:
        entry = j.get("1", "+" + to)
    return entry.delivery if entry else None


def test_a_failed_status_triggers_the_sms_fallback_and_the_row_says_so(world, tmp_path):
    register, wa, url, settings, journal = world
    absent = [mobile(i) for i in (2, 5, 7)]
    wa.webhooks(url, APP_SECRET, delay=0.01, failed={n: 131026 for n in absent})
    with SmsGatewayEmulator(api_key=SMS_KEY) as gateway:
        settings = replace(settings, sms_api_key=SMS_KEY, sms_api=gateway.api_url,
                           sms_fallback=True)
        _cycle(register, settings)
        assert alert_row(register)["statut"] == schema.DIFFUSEE  # accepted by WhatsApp
        assert gateway.accepted == []
        assert wa.flush_webhooks()
        with Journal(journal) as j:
            assert {e.numero for e in j.entries("1") if e.state == FAILED} == set(absent)
        _cycle(register, settings)  # the follow-up sends the SMS
        assert sorted("+" + s.numero for s in gateway.accepted) == sorted(absent)
        row = alert_row(register)
        assert row["statut"] == schema.DIFFUSEE
        assert "3 adhérents joints par SMS de secours" in row["motif"]
        assert row["envoyes"] == str(MEMBERS) and row["echecs"] == "0"
        _cycle(register, settings)
        assert len(gateway.accepted) == 3  # never twice
    assert wa.duplicates() == 0


# -- opt-outs --------------------------------------------------------------------------------


def test_stop_on_whatsapp_unsubscribes_the_member_and_answers_once(world):
    register, wa, url, settings, _journal = world
    wa.webhooks(url, APP_SECRET, delay=0.01)
    member = mobile(3)
    wa.incoming_text(member, "  Arrêt !")
    payload = envelope("messages", text_message(member[1:], "wamid.double", "STOP"), PHONE_ID)
    assert _post(url, payload).status_code == 200
    assert _post(url, payload).status_code == 200  # the same message delivered twice
    assert wa.flush_webhooks()
    _cycle(register, settings)
    rows = register.read([schema.DESINSCRIPTIONS])[schema.DESINSCRIPTIONS].as_dicts()
    assert [(r["telephone"], r["source"]) for r in rows] == [(member, "whatsapp")] * 2
    inscriptions = register.read([schema.INSCRIPTIONS])[schema.INSCRIPTIONS].as_dicts()
    statut = {r["numero"]: r["statut"] for r in inscriptions}
    assert statut[member] == schema.DESINSCRIT
    assert [r.to for r in wa.replies] == [member[1:]]  # one answer for two « STOP »
    assert "désinscription est enregistrée" in wa.replies[0].body
    assert member[1:] not in {a.to for a in wa.accepted}  # not sent the alert of this cycle
    _cycle(register, settings)
    assert len(wa.replies) == 1
    assert len(register.read([schema.DESINSCRIPTIONS])[schema.DESINSCRIPTIONS].rows) == 2


def test_metas_marketing_opt_out_unsubscribes_without_a_reply(world):
    register, wa, url, settings, _journal = world
    wa.webhooks(url, APP_SECRET, delay=0.01)
    member = mobile(4)
    wa.preference_stop(member)
    wa.incoming_text(mobile(5), "Bonjour, merci pour l'alerte")  # not an opt-out: ignored
    assert wa.flush_webhooks()
    _cycle(register, settings)
    rows = register.read([schema.DESINSCRIPTIONS])[schema.DESINSCRIPTIONS].as_dicts()
    assert [(r["telephone"], r["source"]) for r in rows] == [(member, "whatsapp")]
    assert wa.replies == []  # no message from the member: no 24-hour window


# -- exactly once ----------------------------------------------------------------------------


def test_lost_answers_are_settled_by_their_status_and_never_resent(world):
    register, wa, url, settings, journal = world
    wa.webhooks(url, APP_SECRET, delay=0.05)
    wa.drop_next(3, after_accept=True)  # accepted, answer lost
    _cycle(register, settings)
    with Journal(journal) as j:
        assert sum(e.uncertain for e in j.entries("1")) == 3  # recorded as uncertain
    assert wa.flush_webhooks()
    _cycle(register, settings)
    assert alert_row(register)["statut"] == schema.DIFFUSEE
    assert wa.duplicates() == 0 and len(wa.accepted) == MEMBERS


@pytest.mark.slow
def test_requests_that_never_arrived_are_resent_once_the_wait_is_over(world):
    register, wa, url, settings, _journal = world
    settings = replace(settings, status_wait=60.0)  # measured on a fake clock: nobody sleeps
    wa.webhooks(url, APP_SECRET, delay=0.01)
    wa.hang_next(2, 2.0)  # read by the server, never processed, connection lost
    _cycle(register, settings)
    assert alert_row(register)["statut"] == schema.EN_COURS
    assert wa.flush_webhooks()
    _cycle(register, settings)  # within the wait: the two lost sends wait for their status
    assert alert_row(register)["statut"] == schema.EN_COURS
    assert len(wa.accepted) == MEMBERS - 2
    _cycle(register, settings, status_clock=lambda: time.time() + settings.status_wait + 1)
    assert alert_row(register)["statut"] == schema.DIFFUSEE
    assert wa.duplicates() == 0 and len(wa.accepted) == MEMBERS


@pytest.mark.slow
def test_without_webhooks_a_stall_never_gives_a_member_more_than_two_copies(world):
    register, wa, _url, settings, _journal = world
    settings = replace(settings, whatsapp_app_secret=None, concurrency=4)
    wa.stall(3.0)  # accepts everything, answers nothing for 3 s (timeout 1 s)
    for _ in range(4):
        _cycle(register, settings)
    counts = wa.accepted_numbers()
    assert max(counts.values()) <= 2
    assert wa.missed(mobile(i) for i in range(MEMBERS)) == 0
    assert alert_row(register)["statut"] == schema.DIFFUSEE


# -- circuit breaker and re-dispatch ----------------------------------------------------------


def test_a_wrong_api_url_stops_with_erreur_and_the_fixed_alert_reaches_everyone_once(world):
    register, wa, _url, settings, _journal = world
    wrong = replace(settings, whatsapp_api=wa.root_url + "/v25.0/graph", concurrency=2)
    _cycle(register, wrong)
    row = alert_row(register)
    assert row["statut"] == schema.ERREUR
    assert "WHATSAPP_API_URL" in row["motif"] and "404" in row["motif"]
    assert wa.accepted == []
    # the officer fixes the address and puts the row back to « à diffuser »
    register.write([_status_change(register, schema.A_DIFFUSER)])
    _cycle(register, settings)
    row = alert_row(register)
    assert row["statut"] == schema.DIFFUSEE, row["motif"]
    assert "Nouvelle diffusion" in row["motif"]
    assert wa.missed(mobile(i) for i in range(MEMBERS)) == 0 and wa.duplicates() == 0


def _status_change(register: SQLiteRegister, status: str):
    from sender.tables import CellChange

    row = register.read([schema.ALERTES])[schema.ALERTES].rows[0]
    return CellChange(schema.ALERTES, row.key, "statut", status)


def test_a_partly_failed_alert_put_back_goes_only_to_members_not_reached(world):
    register, wa, _url, settings, _journal = world
    settings = replace(settings, whatsapp_app_secret=None)
    refused = mobile(1)  # a refusal about the member: final
    setting_error = mobile(6)  # an error that may come from a setting: retried
    wa.fail_recipient(refused, 131047)
    wa.fail_recipient(setting_error, 100)
    _cycle(register, settings)
    row = alert_row(register)
    assert row["statut"] == schema.DIFFUSEE and row["echecs"] == "2"
    first = wa.accepted_numbers()
    wa.clear_recipient(setting_error)  # the setting is fixed
    register.write([_status_change(register, schema.A_DIFFUSER)])
    _cycle(register, settings)
    row = alert_row(register)
    assert row["statut"] == schema.DIFFUSEE and row["echecs"] == "1"
    assert "Nouvelle diffusion" in row["motif"]
    assert f"{MEMBERS - 2} adhérents déjà atteints" in row["motif"]
    again = wa.accepted_numbers()
    assert again - first == {setting_error[1:]: 1}  # only the member not reached


def test_servir_wires_the_webhook_from_the_settings(tmp_path):
    """`servir` and `demarrer` build their webhook with `webhook_for(settings)`."""
    from sender.config import Settings
    from sender.intake.app import create_app, webhook_for
    from support.site import build_fixture_site, new_register, running

    site_dir, templates = build_fixture_site(tmp_path)
    settings = Settings(journal=tmp_path / "journal.sqlite", whatsapp_app_secret=APP_SECRET,
                        whatsapp_verify_token=VERIFY_TOKEN)
    register = new_register(tmp_path / "registre.sqlite")
    app = create_app(register, site_dir, templates, webhook=webhook_for(settings))
    with running(app) as base:
        url = base + "webhooks/whatsapp"
        query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN,
                 "hub.challenge": "abc"}
        assert requests.get(url, params=query, timeout=10).text == "abc"
        payload = envelope("messages", text_message("33612345678", "wamid.z", "STOP"), PHONE_ID)
        assert _post(url, payload).status_code == 200
        assert requests.get(base, timeout=10).status_code == 200  # the site is still served
    register.close()
    with sqlite3.connect(tmp_path / "journal.sqlite") as conn:
        assert conn.execute("SELECT kind FROM entrants").fetchall() == [("desinscription",)]

"""The public endpoints stay bounded (real HTTP, waitress on 127.0.0.1): signed webhook payloads
that cannot be read get 400 and store nothing, statuses of unknown messages are not stored,
refusals are logged as one summary line a minute, a foreign number is refused by the form, and
with ALERTE_SITE_URL a request for another host name gets 421."""

from __future__ import annotations

import http.client
import json
import logging
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from sender.delivery.signature import sign
from sender.intake.app import create_app
from sender.intake.refusals import SUMMARY_SECONDS, RefusalLog
from sender.intake.validation import foreign_phone_message
from sender.limits import FRENCH_REGIONS
from sender.schema import INSCRIPTIONS
from support.emulators.webhooks import envelope, status_item
from support.formcases import SIGNUP_FORM
from support.scenario import APP_SECRET, PHONE_ID, webhook_receiver
from support.site import build_fixture_site, new_register, rows, running


def _signed(url: str, body: bytes) -> requests.Response:
    return requests.post(url, data=body, timeout=30, headers={
        "Content-Type": "application/json", "X-Hub-Signature-256": sign(body, APP_SECRET)})


def _count(journal: Path, table: str) -> int:
    if not journal.exists():
        return 0
    with sqlite3.connect(journal) as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        if table not in names:
            return 0
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def _status(**changes: object) -> dict:
    item = status_item("wamid.A", "delivered", "33612345678", None)
    item.update(changes)
    return envelope("messages", {"statuses": [item]}, PHONE_ID)


UNREADABLE = {
    "nesting 50k deep": b"[" * 50_000 + b"]" * 50_000,
    "object nested 50k deep": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "5,000-digit timestamp": json.dumps(_status(timestamp="9" * 5000)).encode(),
    "5,000-digit number": json.dumps(_status()).replace(
        '"delivered"', '"delivered", "x": ' + "9" * 5000).encode(),
    "huge integer timestamp": json.dumps(_status(timestamp=10**30)).encode(),
    "statuses is not a list": json.dumps(envelope("messages", {"statuses": {"id": 1}},
                                                  PHONE_ID)).encode(),
    "id is a number": json.dumps(_status(id=12)).encode(),
    "entry of strings": json.dumps({"object": "whatsapp_business_account",
                                    "entry": ["x"]}).encode(),
    "message from a list": json.dumps(envelope("messages", {"messages": [
        {"from": ["33612345678"], "id": "wamid.in", "type": "text",
         "text": {"body": "STOP"}}]}, PHONE_ID)).encode(),
    "not UTF-8": b'{"object": "\xff"}',
    "template status with a 400-digit entry time": json.dumps({
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "time": 10**400, "changes": [{
            "field": "message_template_status_update",
            "value": {"event": "PAUSED", "message_template_name": "alerte_commercants",
                      "message_template_language": "fr"}}]}],
    }).encode(),
}


@pytest.mark.parametrize("label", list(UNREADABLE))
def test_signed_payloads_that_cannot_be_read_get_400_and_store_nothing(tmp_path, label):
    journal = tmp_path / "journal.sqlite"
    with webhook_receiver(journal) as url:
        answer = _signed(url, UNREADABLE[label])
        assert answer.status_code == 400, answer.text
        # and the server is still fine
        assert _signed(url, json.dumps(_status()).encode()).status_code == 200
    assert _count(journal, "statuts") == 0 and _count(journal, "entrants") == 0


def test_statuses_of_messages_the_journal_does_not_know_are_not_stored(tmp_path):
    journal = tmp_path / "journal.sqlite"
    statuses = [status_item(f"wamid.{i}", "delivered", "33612345678",
                            f"am1:0123456789abcdef:1:{i}") for i in range(500)]
    with webhook_receiver(journal) as url:
        body = json.dumps(envelope("messages", {"statuses": statuses}, PHONE_ID)).encode()
        assert _signed(url, body).status_code == 200
    assert _count(journal, "statuts") == 0


def test_refused_requests_are_one_summary_line_a_minute(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    journal = tmp_path / "journal.sqlite"
    with webhook_receiver(journal) as url:
        for _ in range(150):
            requests.post(url, data=b"{}", timeout=10)  # unsigned
        for _ in range(50):
            requests.post(url, data=b"{}", timeout=10,
                          headers={"X-Hub-Signature-256": "sha256=" + "0" * 64})
        assert _signed(url, b"[" * 50_000).status_code == 400
    lines = [r for r in caplog.records if r.name == "sender.intake.webhook"]
    assert len(lines) == 1, [r.getMessage() for r in lines]  # the first one, at once
    assert "signature absente ou fausse : 1" in lines[0].getMessage()


def test_the_summary_counts_by_reason_once_a_minute(caplog):
    caplog.set_level(logging.INFO)
    now = [0.0]
    refusals = RefusalLog(logging.getLogger("test.refusals"), "Requêtes", clock=lambda: now[0])
    for second in range(180):
        now[0] = float(second)
        refusals.refused("signature absente ou fausse")
        if second % 3 == 0:
            refusals.refused("contenu signé illisible")
    messages = [r.getMessage() for r in caplog.records if r.name == "test.refusals"]
    assert len(messages) == 3  # at 0 s, 60 s and 120 s
    assert "refusées (80)" in messages[1]
    assert "signature absente ou fausse : 60" in messages[1]
    assert "contenu signé illisible : 20" in messages[1]
    assert SUMMARY_SECONDS == 60


@pytest.fixture
def site(tmp_path):
    return build_fixture_site(tmp_path)


def _raw(url: str, host: str, path: str = "/") -> tuple[int, bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.putrequest("GET", path, skip_host=True)
        conn.putheader("Host", host)
        conn.endheaders()
        answer = conn.getresponse()
        return answer.status, answer.read()
    finally:
        conn.close()


def test_with_a_site_url_another_host_gets_421(tmp_path, site):
    site_dir, templates = site
    register = new_register(tmp_path / "registre.sqlite")
    app = create_app(register, site_dir, templates, site_url="https://alerte-lozere.example")
    with running(app) as url:
        port = urlsplit(url).port
        for host in ("alerte-lozere.example", "ALERTE-LOZERE.example:443", f"127.0.0.1:{port}",
                     f"localhost:{port}", "[::1]"):
            assert _raw(url, host)[0] == 200, host
        for host in ("autre-site.example", "alerte-lozere.example.evil.test", "10.0.0.8"):
            status, body = _raw(url, host)
            assert status == 421, host
            assert "Ce serveur ne répond pas sous ce nom" in body.decode()
        assert _raw(url, "autre-site.example", "/webhooks/whatsapp")[0] == 421
    register.close()


def test_without_a_site_url_every_host_is_served(tmp_path, site):
    site_dir, templates = site
    register = new_register(tmp_path / "registre.sqlite")
    with running(create_app(register, site_dir, templates)) as url:
        assert _raw(url, "autre-site.example")[0] == 200
    register.close()


def test_the_form_refuses_a_foreign_mobile_in_french(tmp_path, site):
    site_dir, templates = site
    register = new_register(tmp_path / "registre.sqlite")
    with running(create_app(register, site_dir, templates)) as url:
        for telephone in ("+44 7911 123456", "+850 191 123 4567", "+252 61 1234567"):
            answer = requests.post(url + "inscription", timeout=10,
                                   data={**SIGNUP_FORM, "telephone": telephone})
            assert answer.status_code == 400, telephone
            assert "opérateurs français" in answer.text
        ok = requests.post(url + "inscription", timeout=10,
                           data={**SIGNUP_FORM, "telephone": "+262 692 12 34 56"})
        assert ok.status_code == 200 and ok.history[0].status_code == 303
    assert [r["telephone"] for r in rows(register, INSCRIPTIONS)] == ["+262 692 12 34 56"]
    assert "opérateurs français" in foreign_phone_message(FRENCH_REGIONS)
    register.close()


def test_statuses_of_unknown_messages_are_one_log_line_a_minute(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    journal = tmp_path / "journal.sqlite"
    with webhook_receiver(journal) as url:
        for i in range(300):
            item = status_item(f"wamid.{i}", "delivered", "33612345678", None)
            body = json.dumps(envelope("messages", {"statuses": [item]}, PHONE_ID)).encode()
            assert _signed(url, body).status_code == 200
    lines = [r.getMessage() for r in caplog.records if r.name == "sender.intake.webhook"]
    assert lines == ["Webhook WhatsApp : statuts ignorés (1) — sans envoi connu dans le "
                     "journal : 1."]
    assert _count(journal, "statuts") == 0


def test_the_table_of_sms_requests_is_bounded(tmp_path, monkeypatch):
    from sender.journal import asked as asked_module
    from sender.journal.asked import SmsRequests, SmsRequestsFull

    monkeypatch.setattr(asked_module, "MAX_ROWS", 3)
    now = [1_000_000.0]
    store = SmsRequests(tmp_path / "journal.sqlite", clock=lambda: now[0])
    for code in ("000001", "000002", "000003"):
        store.ask("inscription", code)
    store.ask("inscription", "000003")  # the same request twice: one row
    with pytest.raises(SmsRequestsFull):
        store.ask("inscription", "000004")
    now[0] += asked_module.KEEP_SECONDS + 1  # the old ones expire on the next write
    store.ask("inscription", "000004")
    assert store.asked() == {("inscription", "000004")}
    store.close()

"""Reverse confirmation and sign-up by WhatsApp, end to end with real HTTP: the form posted to
the intake, the thanks page with its click-to-chat link and QR code, the person's message
posted by the WhatsApp emulator as a signed webhook, the cycle confirming and answering in
free-form text (inside the 24-hour window), and not one template message spent."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest
import requests
from waitress.server import create_server

from sender import schema
from sender.consent.codes import read_code_message
from sender.consent.tokens import load_secret
from sender.conversation import inbox, signup
from sender.dates import now as paris_now
from sender.delivery.store import PER_NUMBER_PER_HOUR, DeliveryStore
from sender.intake.app import create_app
from sender.intake.server import IntakeServer
from sender.intake.webhook import WebhookEndpoint
from sender.register.sqlite import SQLiteRegister
from sender.runner import Sender
from support.emulators.whatsapp import WhatsAppEmulator
from support.scenario import (
    APP_SECRET,
    ROOT,
    VERIFY_TOKEN,
    TimedWhatsAppEmulator,
    fill,
    mobile,
    quiet_console,
    whatsapp_settings,
)
from support.site import served

SECRET = "secret-de-test-pour-les-codes-de-confirmation-0123456789"
NETWORK = "33466000000"  # WHATSAPP_NUMERO_PUBLIC, digits
PERSON = "+33756123450"
OTHER = "+33756123451"


@pytest.fixture
def wa():
    with TimedWhatsAppEmulator() as emulator:
        yield emulator


@contextmanager
def intake(tmp: Path, register: SQLiteRegister, settings) -> Iterator[str]:
    """The intake (forms, thanks pages, webhook) of these settings on 127.0.0.1."""
    endpoint = WebhookEndpoint(
        lambda: DeliveryStore(settings.journal), verify_token=VERIFY_TOKEN, app_secret=APP_SECRET
    )
    site = tmp / "site"
    site.mkdir(exist_ok=True)
    app = create_app(
        register, site, ROOT / "site" / "templates", secret=lambda: load_secret(settings),
        webhook=endpoint, whatsapp_number=settings.whatsapp_numero_public,
    )
    try:
        with served(IntakeServer(create_server(app, host="127.0.0.1", port=0, threads=4))) as url:
            yield url
    finally:
        endpoint.close()


@pytest.fixture
def world(tmp_path: Path, wa):
    register = SQLiteRegister(tmp_path / "registre.sqlite")
    fill(register, 2)  # two active members
    settings = whatsapp_settings(
        tmp_path, str(tmp_path / "registre.sqlite"), wa, secret=SECRET,
        whatsapp_app_secret=APP_SECRET, whatsapp_numero_public=NETWORK,
    )
    clock = {"shift": timedelta(0)}
    sender = Sender(
        register, settings, console=quiet_console(), progress=False,
        clock=lambda: paris_now() + clock["shift"],
        status_clock=lambda: time.time() + clock["shift"].total_seconds(),
    )
    with closing(sender), intake(tmp_path, register, settings) as url:
        wa.webhooks(url + "webhooks/whatsapp", APP_SECRET, delay=0.0)
        yield register, sender, url, clock
    register.close()


def sign_up(url: str, telephone: str = PERSON, nom: str = "Jeanne Martin") -> str:
    """Post the form; return the thanks page's HTML (the redirect followed)."""
    answer = requests.post(url + "inscription", data={
        "nom": nom, "entreprise": "Boulangerie Martin", "activite": schema.ACTIVITES[0],
        "commune": "Mende", "telephone": telephone, "consentement": "oui",
    }, timeout=10)
    assert answer.status_code == 200 and "?code=" in answer.url
    return answer.text


def prefilled(page: str) -> str:
    """The text the page's wa.me link types for the person."""
    (link,) = re.findall(r'href="https://wa\.me/(\d+)\?text=([^"]+)"', page)
    assert link[0] == NETWORK
    return unquote(link[1])


def rows(register: SQLiteRegister, tab: str = schema.INSCRIPTIONS) -> list[dict[str, str]]:
    return register.read([tab])[tab].as_dicts()


def row_of(register: SQLiteRegister, nom: str) -> dict[str, str]:
    (row,) = [r for r in rows(register) if r["nom"] == nom]
    return row


def say(wa: WhatsAppEmulator, sender: Sender, numero: str, text: str) -> str:
    """The person sends `text`; one cycle; the reply they got (the last free-form text)."""
    before = len(wa.replies)
    wa.incoming_text(numero, text)
    assert wa.flush_webhooks()
    sender.run_once()
    replies = [r for r in wa.replies[before:] if r.to == numero.lstrip("+")]
    assert replies, f"pas de réponse à « {text} »"
    return replies[-1].body


# -- reverse confirmation -----------------------------------------------------------------


def test_page_shows_the_link_and_the_qr_code_and_nothing_is_sent(world, wa):
    register, sender, url, _ = world
    page = sign_up(url)
    text = prefilled(page)
    assert re.fullmatch(r"INSCRIPTION \d\d-\d{4}", text)
    assert "<svg" in page and 'class="qr"' in page and "+33\u00a04\u00a066" in page
    assert "<script" not in page
    sender.run_once()
    assert row_of(register, "Jeanne Martin")["statut"] == schema.EN_ATTENTE
    assert wa.accepted == [] and wa.replies == []  # no outbound confirmation


def test_right_number_confirms_and_gets_a_free_reply(world, wa):
    register, sender, url, _ = world
    text = prefilled(sign_up(url))
    sender.run_once()
    wa.incoming_text(PERSON, text)
    assert wa.flush_webhooks()
    report = sender.run_once()
    assert report.code_confirmations == 1
    assert "1 demande confirmée par code WhatsApp" in report.summary()
    assert [r.body for r in wa.replies] == [inbox.CONFIRMED["inscription"]]
    row = row_of(register, "Jeanne Martin")
    assert row["confirme_le"] and row["statut"] == schema.ACTIF  # in that very cycle
    assert wa.accepted == []  # zero template sends: the reply is free-form


def test_code_typed_loosely_still_confirms(world, wa):
    register, sender, url, _ = world
    code = read_code_message(prefilled(sign_up(url)))
    assert code is not None
    say(wa, sender, PERSON, f"inscription {code.code[:2]} {code.code[2:]}")
    assert row_of(register, "Jeanne Martin")["statut"] == schema.ACTIF


def test_wrong_number_confirms_nothing_and_is_told_why(world, wa):
    register, sender, url, _ = world
    text = prefilled(sign_up(url))
    reply = say(wa, sender, OTHER, text)
    assert reply == inbox.OTHER_NUMBER
    row = row_of(register, "Jeanne Martin")
    assert row["confirme_le"] == "" and row["statut"] == schema.EN_ATTENTE


def test_wrong_code_confirms_nothing(world, wa):
    register, sender, url, _ = world
    text = prefilled(sign_up(url))
    digits = text.split()[1].replace("-", "")
    wrong = f"{(int(digits) + 1) % 1_000_000:06d}"
    assert say(wa, sender, PERSON, f"INSCRIPTION {wrong}") == inbox.UNKNOWN_CODE
    assert row_of(register, "Jeanne Martin")["confirme_le"] == ""


def test_expired_code_confirms_nothing(world, wa):
    register, sender, url, clock = world
    text = prefilled(sign_up(url))
    clock["shift"] = timedelta(days=7, hours=1)  # ALERTE_CONFIRMATION_JOURS is 7
    assert say(wa, sender, PERSON, text) == inbox.EXPIRED
    assert row_of(register, "Jeanne Martin")["confirme_le"] == ""


def test_a_code_used_twice_changes_nothing_the_second_time(world, wa):
    register, sender, url, _ = world
    text = prefilled(sign_up(url))
    say(wa, sender, PERSON, text)
    stamp = row_of(register, "Jeanne Martin")["confirme_le"]
    assert say(wa, sender, PERSON, text) == inbox.ALREADY
    assert row_of(register, "Jeanne Martin")["confirme_le"] == stamp


def test_unsubscription_confirmed_by_its_code(world, wa):
    register, sender, url, _ = world
    member = mobile(0)  # an active member of `fill`
    answer = requests.post(url + "desinscription", data={"telephone": member}, timeout=10)
    assert answer.status_code == 200
    text = prefilled(answer.text)
    assert text.startswith("DESINSCRIPTION ")
    sender.run_once()
    assert wa.accepted == []
    assert say(wa, sender, member, text) == inbox.CONFIRMED["desinscription"]
    statuses = {r["telephone"]: r["statut"] for r in rows(register)}
    assert [s for t, s in statuses.items() if t.replace(" ", "").endswith(member[-8:])] == [
        schema.DESINSCRIT
    ]


def test_without_whatsapp_number_the_thanks_page_is_the_static_one(tmp_path: Path, wa):
    register = SQLiteRegister(tmp_path / "registre.sqlite")
    fill(register, 0)
    settings = whatsapp_settings(tmp_path, str(tmp_path / "registre.sqlite"), wa, secret=SECRET)
    assert not settings.reverse_confirmation
    with intake(tmp_path, register, settings) as url:
        answer = requests.post(url + "inscription", data={
            "nom": "A B", "entreprise": "C", "activite": schema.ACTIVITES[0],
            "commune": "Mende", "telephone": PERSON, "consentement": "oui",
        }, timeout=10, allow_redirects=False)
        assert answer.headers["Location"] == "/merci-inscription/"
        forged = requests.get(url + "merci-inscription/?code=123456", timeout=10)
        assert "wa.me" not in forged.text
    register.close()


# -- the whole sign-up on WhatsApp --------------------------------------------------------


def converse(wa, sender, numero: str, answers: list[str]) -> list[str]:
    return [say(wa, sender, numero, text) for text in answers]


def test_sign_up_entirely_by_whatsapp(world, wa):
    register, sender, _, _ = world
    replies = converse(wa, sender, PERSON, [
        "Inscription", "Jeanne Martin", "Boulangerie Martin", "1", "mende",
    ])
    assert signup.QUESTIONS[signup.NOM] in replies[0]
    assert replies[1:4] == [signup.QUESTIONS[signup.ENTREPRISE],
                            signup.QUESTIONS[signup.ACTIVITE], signup.QUESTIONS[signup.COMMUNE]]
    assert "1. Alimentation" in replies[2] and "Mende" in replies[4]
    before = {r["nom"] for r in rows(register)}
    assert "Jeanne Martin" not in before  # nothing stored before the « OUI »
    wa.incoming_text(PERSON, "oui")
    assert wa.flush_webhooks()
    report = sender.run_once()
    assert report.whatsapp_signups == 1 and "1 inscription faite sur WhatsApp" in report.summary()
    assert wa.replies[-1].body == signup.DONE
    row = row_of(register, "Jeanne Martin")
    assert row["source"] == schema.SOURCE_WHATSAPP and row["statut"] == schema.ACTIF
    assert row["commune"] == "Mende" and row["activite"] == schema.ACTIVITES[0]
    assert row["confirme_le"] and row["consentement"].startswith("whatsapp ")
    assert "wamid." in row["consentement"]  # the « OUI » message's id, kept as proof
    assert wa.accepted == []  # zero outbound (template) messages for a WhatsApp sign-up
    assert say(wa, sender, PERSON, "INSCRIPTION") == inbox.ALREADY_MEMBER


def test_ambiguous_commune_is_confirmed_back(world, wa):
    register, sender, _, _ = world
    replies = converse(wa, sender, PERSON, ["INSCRIPTION", "Paul Roux", "Garage Roux", "5",
                                            "florac"])
    assert replies[-1] == signup.COMMUNE_CHECK.format(commune="Florac Trois Rivières")
    summary = say(wa, sender, PERSON, "Oui")
    assert summary.startswith(signup.summary({
        "nom": "Paul Roux", "entreprise": "Garage Roux", "activite": schema.ACTIVITES[4],
        "commune": "Florac Trois Rivières",
    }))
    assert summary.endswith("\nVos données\u00a0: http://127.0.0.1:8000/donnees-personnelles/")
    say(wa, sender, PERSON, "OUI")
    assert row_of(register, "Paul Roux")["commune"] == "Florac Trois Rivières"


def test_unknown_commune_and_bad_activity_are_asked_again(world, wa):
    _, sender, _, _ = world
    replies = converse(wa, sender, PERSON, ["INSCRIPTION", "Paul Roux", "Garage", "99", "2",
                                            "Paris"])
    assert replies[3] == signup.ACTIVITE_AGAIN
    assert replies[5].startswith("«\u00a0Paris\u00a0» n’est pas une commune de Lozère")


def test_second_inscription_while_in_a_conversation(world, wa):
    _, sender, _, _ = world
    converse(wa, sender, PERSON, ["INSCRIPTION", "Paul Roux"])
    again = say(wa, sender, PERSON, "inscription")
    assert again.startswith(signup.ALREADY_STARTED)
    assert signup.QUESTIONS[signup.ENTREPRISE] in again  # the same question, not a restart


def test_abandoned_conversation_expires(world, wa):
    register, sender, _, clock = world
    converse(wa, sender, PERSON, ["INSCRIPTION", "Paul Roux"])
    clock["shift"] = timedelta(hours=25)
    assert say(wa, sender, PERSON, "Garage Roux") == inbox.HELP  # forgotten: no conversation
    assert "Paul Roux" not in {r["nom"] for r in rows(register)}


def test_no_and_stop_end_the_conversation(world, wa):
    register, sender, _, _ = world
    converse(wa, sender, PERSON, ["INSCRIPTION", "Paul Roux", "Garage", "5", "Mende"])
    assert say(wa, sender, PERSON, "non") == signup.CANCELLED
    converse(wa, sender, OTHER, ["INSCRIPTION", "Luc Noir"])
    assert say(wa, sender, OTHER, "STOP") == signup.CANCELLED
    assert not {"Paul Roux", "Luc Noir"} & {r["nom"] for r in rows(register)}
    assert rows(register, schema.DESINSCRIPTIONS) == []  # neither was a member


# -- bounds ---------------------------------------------------------------------------------


def test_stop_from_a_stranger_writes_no_unsubscription_row(world, wa):
    register, sender, _, _ = world
    for i in range(5):
        wa.incoming_text(f"+3375600000{i}", "STOP")
    wa.incoming_text(mobile(1), "STOP")  # a member
    assert wa.flush_webhooks()
    report = sender.run_once()
    assert report.optouts == 1
    (row,) = rows(register, schema.DESINSCRIPTIONS)
    assert row["telephone"] == mobile(1)


def test_messages_of_one_number_are_capped_per_hour(world, wa, tmp_path: Path):
    _, sender, _, _ = world
    for i in range(PER_NUMBER_PER_HOUR + 15):
        wa.incoming_text(PERSON, f"bonjour {i}")
    assert wa.flush_webhooks()
    store = DeliveryStore(tmp_path / "journal.sqlite")
    with store.file.read() as conn:
        (kept,) = conn.execute("SELECT COUNT(*) FROM entrants WHERE sender = ?",
                               (PERSON[1:],)).fetchone()
    store.close()
    assert kept == PER_NUMBER_PER_HOUR
    before = len(wa.replies)
    sender.run_once()
    assert len(wa.replies) - before == PER_NUMBER_PER_HOUR  # one help each, no more


def test_reply_outside_the_window_is_refused_by_whatsapp(wa):
    """The emulator answers 131047 to a free-form text when the person has not written in
    the last 24 hours, as Meta does; the channel reports it as an error about this member."""
    from sender.channels.base import RecipientError
    from sender.channels.factory import ConfiguredChannels
    settings = whatsapp_settings(Path("."), "x", wa)
    channel = ConfiguredChannels(settings).primary
    with pytest.raises(RecipientError) as refused:
        channel.reply(PERSON, "Bonjour")
    assert refused.value.code == "131047" and wa.replies == []
    wa.webhooks("http://127.0.0.1:9/", APP_SECRET)  # nobody listens: the post just fails
    wa.incoming_text(PERSON, "Bonjour")  # the person writes: the window opens
    channel.reply(PERSON, "Bonjour à vous")
    assert [r.body for r in wa.replies] == ["Bonjour à vous"]
    wa.stop_webhooks()


# -- the Apps Script intake shows the same link and code ---------------------------------------


@pytest.mark.parametrize("label", ["ordinary sign-up", None])
def test_apps_script_thanks_page_shows_the_same_code(label):
    from sender.consent.codes import code_key, prefilled_text
    from sender.intake.reverse import code_of_row, kind_of
    from sender.intake.validation import validate_signup, validate_unsubscribe
    from support.formcases import CASES, MOMENT
    from tests.test_apps_script import run_script

    if label is not None:
        case = next(c for c in CASES if c.label == label)
        kind, form = case.kind, dict(case.form)
    else:
        kind, form = "desinscription", {"telephone": "06 12 34 56 78"}
    validate = validate_signup if kind == "inscription" else validate_unsubscribe
    row = validate(form, moment=MOMENT).row
    assert row is not None
    tab = schema.INSCRIPTIONS if kind == "inscription" else schema.DESINSCRIPTIONS
    secret = SECRET.encode()
    expected = prefilled_text(kind_of(tab), code_of_row(secret, tab, row) or "")
    properties = {"WHATSAPP_NUMERO_PUBLIC": "+33 4 66 00 00 00",
                  "CLE_CODES_WHATSAPP": code_key(secret).hex()}
    answers = run_script({"moment": MOMENT.isoformat(), "cases": [
        {"kind": kind, "form": form, "properties": properties},
        {"kind": kind, "form": form},
    ]})["cases"]
    assert answers[0]["stored"] and "window.top.location" not in answers[0]["html"]
    assert prefilled(answers[0]["html"]) == expected
    assert f"«\u00a0{expected}\u00a0»" in answers[0]["html"]
    assert "wa.me" not in answers[1]["html"]  # without the properties: the page as before


def test_only_requests_flagged_envoi_demande_get_an_outbound_message():
    from sender.consent.requests import ConfirmationRequest, outbound

    plain = ConfirmationRequest("inscription", "1", PERSON, None, None)
    asked = ConfirmationRequest("inscription", "2", OTHER, None, None, envoi_demande=True)
    assert outbound([plain, asked], reverse_confirmation=False) == [plain, asked]
    assert outbound([plain, asked], reverse_confirmation=True) == [asked]


def test_code_confirmation_on_google_sheets(tmp_path: Path, wa, sheets):
    """The same code from the row the intake appended to Google Sheets (through the Sheets
    emulator): read back, its horodatage gives the same code."""
    from sender.intake.reverse import code_of_row
    from sender.intake.validation import validate_signup
    from support.scenario import sheets_register

    register, key = sheets_register(sheets)
    fill(register, 2)
    row = validate_signup({
        "nom": "Jeanne Martin", "entreprise": "Boulangerie", "activite": schema.ACTIVITES[0],
        "commune": "Mende", "telephone": "07 56 12 34 50", "consentement": "oui",
    }).row
    assert row is not None
    register.append(schema.INSCRIPTIONS, [row])
    code = code_of_row(SECRET.encode(), schema.INSCRIPTIONS, row)
    settings = whatsapp_settings(tmp_path, key, wa, secret=SECRET,
                                 whatsapp_app_secret=APP_SECRET, whatsapp_numero_public=NETWORK)
    sender = Sender(register, settings, console=quiet_console(), progress=False)
    with closing(sender), intake(tmp_path, register, settings) as url:
        wa.webhooks(url + "webhooks/whatsapp", APP_SECRET, delay=0.0)
        sender.run_once()
        wa.incoming_text(PERSON, f"INSCRIPTION {code}")
        assert wa.flush_webhooks()
        assert sender.run_once().code_confirmations == 1
        (done,) = [r for r in rows(register) if r["nom"] == "Jeanne Martin"]
        assert done["statut"] == schema.ACTIF
        assert wa.accepted == [] and wa.replies[-1].body == inbox.CONFIRMED["inscription"]

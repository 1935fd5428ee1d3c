"""Consent proven by the phone, over real HTTP: the intake server, the register, the sender.

A sign-up made on the form waits (`en attente`) until its phone follows the link of the message
the sender sends; only then does it receive alerts. Unsubscriptions work the same way. Links
are signed, single-use and expire; posts from another site are refused.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from sender import schema
from sender.channels.outbox import OutboxChannel
from sender.config import Settings
from sender.consent.confirm import Outcome, confirm_buttons, confirm_token
from sender.consent.messages import SITE_SENTENCES, TEMPLATES, WITHOUT_ANSWER
from sender.dates import now as paris_now
from sender.intake.app import create_app
from sender.register.sqlite import SQLiteRegister
from sender.runner import Sender
from support.scenario import officer_rows, prevention_alert, quiet_console
from support.site import build_fixture_site, running

SECRET = b"secret-de-test-pour-les-liens-de-confirmation-0123456789"
FORM = {
    "nom": "Anne Rouvière",
    "entreprise": "Boulangerie du Gévaudan",
    "activite": "Alimentation (boulangerie, boucherie, épicerie…)",
    "commune": "Sainte-Enimie",
    "telephone": "06 12 34 56 78",
    "consentement": "oui",
}
NUMERO = "+33612345678"


class Clock:
    """The time of the sender and of the confirmation page, moved by the tests."""

    def __init__(self) -> None:
        self.moment = paris_now()

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


class World:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.clock = Clock()
        self.site, templates = build_fixture_site(tmp)
        self.register = SQLiteRegister(tmp / "registre.sqlite")
        self.register.initialise()
        self.settings = Settings(
            register=str(tmp / "registre.sqlite"), journal=tmp / "journal.sqlite",
            outbox=tmp / "outbox.jsonl", secret=SECRET.decode(),
        )
        self.app = create_app(self.register, self.site, templates, posts_per_minute=1000,
                              secret=SECRET, now=self.clock)
        self.url = ""
        self.sender: Sender | None = None

    def start(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.settings = replace(self.settings, site_url=self.url)
        channel = OutboxChannel(self.settings.outbox, console=quiet_console(), quiet=True)
        self.sender = Sender(self.register, self.settings, channel=channel,
                             console=quiet_console(), progress=False, clock=self.clock)

    def post(self, path: str, data: dict[str, str], **headers: str) -> requests.Response:
        headers.setdefault("Origin", self.url)
        return requests.post(self.url + path, data=data, headers=headers,
                             allow_redirects=False, timeout=10)

    def cycle(self):
        assert self.sender is not None
        return self.sender.run_once()

    def rows(self, tab: str = schema.INSCRIPTIONS) -> list[dict[str, str]]:
        return self.register.read([tab])[tab].as_dicts()

    def outbox(self) -> list[dict]:
        if not self.settings.outbox.exists():
            return []
        return [json.loads(line) for line in self.settings.outbox.read_text("utf-8").splitlines()]

    def confirmations(self) -> list[dict]:
        return [m for m in self.outbox() if m["alert_id"].startswith("confirmation-")]

    def link(self, message: dict) -> str:
        found = re.search(r"https?://\S+", message["text"])
        assert found, message["text"]
        return found.group(0)

    def confirm(self, link: str) -> requests.Response:
        """What a person does: open the link (GET, a page with a button), press the button."""
        shown = requests.get(link, timeout=10)
        assert shown.status_code == 200, shown.text
        token = parse_qs(urlsplit(link).query)["jeton"][0]
        assert f'name="jeton" value="{token}"' in shown.text
        return self.post("/confirmer", {"jeton": token})

    def add_alert(self, alert_id: str) -> None:
        if not self.rows(schema.HABILITATIONS):
            self.register.append(schema.HABILITATIONS, officer_rows())
        self.register.append(schema.ALERTES, [prevention_alert(alert_id)])

    def alert_recipients(self, alert_id: str) -> list[str]:
        return sorted(m["recipient"] for m in self.outbox() if m["alert_id"] == alert_id)


@pytest.fixture
def world(tmp_path: Path):
    world = World(tmp_path)
    with running(world.app) as url:
        world.start(url)
        yield world
        assert world.sender is not None
        world.sender.close()
    world.register.close()


def import_member(world: World, telephone: str, **fields: str) -> None:
    row = {**FORM, "telephone": telephone, "source": schema.SOURCE_IMPORT,
           "horodatage": "01/03/2026 09:00", **fields}
    world.register.append(schema.INSCRIPTIONS, [row])


def heading(response: requests.Response) -> str:
    found = re.search(r"<h1>(.*?)</h1>", response.text)
    return found.group(1) if found else ""


# -- sign-up ------------------------------------------------------------------------------------


def test_signup_waits_for_its_phone_then_receives_the_next_alert(world: World):
    answer = world.post("/inscription", FORM)
    assert answer.status_code == 303 and answer.headers["Location"] == "/merci-inscription/"
    (row,) = world.rows()
    assert row["source"] == "formulaire" and row["confirme_le"] == ""

    report = world.cycle()
    (row,) = world.rows()
    assert row["statut"] == schema.EN_ATTENTE
    assert row["remarque"].startswith("en attente de confirmation par message")
    assert report.confirmations_sent == 1
    (message,) = world.confirmations()
    assert message["recipient"] == NUMERO
    assert message["template"] == TEMPLATES["inscription"]
    assert WITHOUT_ANSWER["inscription"] in message["text"]
    link = world.link(message)
    assert link.startswith(world.url + "/confirmer?jeton=")
    assert message["button_payload"] == parse_qs(urlsplit(link).query)["jeton"][0]
    assert message["parameters"]["lien"] == link

    world.cycle()
    assert world.sender is not None
    world.sender.close()
    world.start(world.url)  # the sender restarts: the journal remembers the message
    world.cycle()
    assert len(world.confirmations()) == 1, "one message per sign-up, even after restarts"

    opened = requests.get(link, timeout=10)  # a link preview: nothing is confirmed by a GET
    assert opened.status_code == 200 and "Je confirme votre inscription" in opened.text
    assert opened.headers["Referrer-Policy"] == "same-origin"  # the token never leaves the site
    assert opened.headers["X-Robots-Tag"] == "noindex"
    assert world.rows()[0]["confirme_le"] == ""

    confirmed = world.confirm(link)
    assert confirmed.status_code == 200 and heading(confirmed) == "Inscription confirmée"
    assert world.rows()[0]["confirme_le"]

    world.cycle()
    (row,) = world.rows()
    assert row["statut"] == schema.ACTIF and row["commune"] == "Gorges du Tarn Causses"
    world.add_alert("1")
    world.cycle()
    assert world.alert_recipients("1") == [NUMERO]


def test_unconfirmed_signup_never_receives_an_alert(world: World):
    import_member(world, "07 56 12 34 56")
    assert world.post("/inscription", FORM).status_code == 303
    world.cycle()
    world.add_alert("1")
    world.cycle()
    assert world.alert_recipients("1") == ["+33756123456"]
    statuses = {r["telephone"]: r["statut"] for r in world.rows()}
    assert statuses == {"07 56 12 34 56": schema.ACTIF, "06 12 34 56 78": schema.EN_ATTENTE}


def test_reused_and_expired_links_are_refused_with_a_french_page(world: World):
    world.post("/inscription", FORM)
    world.cycle()
    link = world.link(world.confirmations()[0])
    token = parse_qs(urlsplit(link).query)["jeton"][0]
    assert world.confirm(link).status_code == 200
    stamp = world.rows()[0]["confirme_le"]

    again = world.post("/confirmer", {"jeton": token})
    assert again.status_code == 409 and heading(again) == "Lien déjà utilisé"
    assert "rien n’a été changé" in again.text
    assert world.rows()[0]["confirme_le"] == stamp

    forged = world.post("/confirmer", {"jeton": token[:-2] + "AA"})
    assert forged.status_code == 400 and heading(forged) == "Lien non valable"

    # a second sign-up whose link is never used, then eight days later
    world.post("/inscription", {**FORM, "telephone": "07 56 12 34 56"})
    world.cycle()
    late = world.link(world.confirmations()[-1])
    world.clock.advance(days=8)
    shown = requests.get(late, timeout=10)
    assert shown.status_code == 410 and heading(shown) == "Lien expiré"
    posted = world.post("/confirmer", {"jeton": parse_qs(urlsplit(late).query)["jeton"][0]})
    assert posted.status_code == 410 and "Remplissez de nouveau le formulaire" in posted.text
    world.cycle()
    rows = {r["telephone"]: r for r in world.rows()}
    expired = rows["07 56 12 34 56"]
    assert expired["statut"] == schema.EN_ATTENTE and expired["confirme_le"] == ""
    assert expired["remarque"].startswith("demande expirée le ")  # marked, never deleted


def test_missing_or_truncated_link_gets_a_french_page(world: World):
    missing = requests.get(world.url + "/confirmer", timeout=10)
    assert missing.status_code == 400 and heading(missing) == "Lien incomplet"
    cut = requests.get(world.url + "/confirmer?jeton=i.1.abc", timeout=10)
    assert cut.status_code == 400 and heading(cut) == "Lien non valable"


# -- unsubscription -------------------------------------------------------------------------------


def test_unsubscription_takes_effect_only_once_the_phone_confirms(world: World):
    import_member(world, "06 12 34 56 78")
    world.cycle()
    answer = world.post("/desinscription", {"telephone": "06 12 34 56 78"})
    assert answer.status_code == 303 and answer.headers["Location"] == "/merci-desinscription/"

    world.cycle()
    (request,) = world.rows(schema.DESINSCRIPTIONS)
    assert request["traite"].startswith("en attente de confirmation")
    (message,) = world.confirmations()
    assert message["template"] == TEMPLATES["desinscription"]
    assert WITHOUT_ANSWER["desinscription"] in message["text"]
    world.add_alert("1")
    world.cycle()
    assert world.alert_recipients("1") == [NUMERO], "without confirmation, still a member"

    assert heading(world.confirm(world.link(message))) == "Désinscription confirmée"
    world.cycle()
    assert world.rows()[0]["statut"] == schema.DESINSCRIT
    assert world.rows(schema.DESINSCRIPTIONS)[0]["traite"] == "oui"
    world.add_alert("2")
    world.cycle()
    assert world.alert_recipients("2") == []


def test_unsubscription_page_is_the_same_for_a_number_nobody_registered(world: World):
    import_member(world, "06 12 34 56 78")
    known = world.post("/desinscription", {"telephone": "06 12 34 56 78"})
    unknown = world.post("/desinscription", {"telephone": "07 56 12 34 56"})
    assert (known.status_code, known.headers["Location"]) == (
        unknown.status_code, unknown.headers["Location"])
    assert known.text == unknown.text
    world.cycle()
    assert [m["recipient"] for m in world.confirmations()] == [NUMERO]  # no message to strangers
    traite = {r["telephone"]: r["traite"] for r in world.rows(schema.DESINSCRIPTIONS)}
    assert traite["07 56 12 34 56"] == "sans effet : numéro non inscrit"


# -- correction ----------------------------------------------------------------------------------


def test_confirmed_signup_corrects_the_member_in_place(world: World):
    import_member(world, "06 12 34 56 78", commune="Mende", nom="Anne Rouviere")
    world.cycle()
    world.post("/inscription", {**FORM, "commune": "Florac"})
    world.cycle()
    pending = world.rows()[1]
    assert pending["statut"] == schema.EN_ATTENTE
    assert "la confirmation mettra à jour l'inscription n° 1" in pending["remarque"]
    world.confirm(world.link(world.confirmations()[0]))
    world.cycle()

    member, correction = world.rows()
    assert member["statut"] == schema.ACTIF
    assert (member["commune"], member["code_insee"], member["zone"]) == (
        "Florac Trois Rivières", "48061", "gendarmerie")
    assert member["nom"] == "Anne Rouvière"
    assert member["remarque"].startswith("informations corrigées le ")
    assert "commune « Mende » → « Florac Trois Rivières »" in member["remarque"]
    assert "(inscription n° 2)" in member["remarque"]
    assert correction["statut"] == schema.DOUBLON
    assert correction["remarque"].startswith("correction de l'inscription n° 1, appliquée le ")

    before = world.rows()
    world.cycle()
    assert world.rows() == before, "a correction is applied once"
    world.add_alert("1")
    world.cycle()
    assert world.alert_recipients("1") == [NUMERO]


# -- cross-site posts -----------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
], ids=["evil-origin", "null-origin", "fetch-cross-site", "fetch-same-site"])
def test_posts_from_another_site_are_refused_and_nothing_is_stored(world: World, headers):
    import_member(world, "06 12 34 56 78")
    for path, data in (("/desinscription", {"telephone": "06 12 34 56 78"}),
                       ("/inscription", {**FORM, "telephone": "07 56 12 34 56"})):
        answer = world.post(path, data, **headers)
        assert answer.status_code == 403
        assert heading(answer) == "Envoi refusé" and "Rien n’a été enregistré" in answer.text
    assert world.rows(schema.DESINSCRIPTIONS) == [] and len(world.rows()) == 1


def test_cross_site_confirmation_post_changes_nothing(world: World):
    world.post("/inscription", FORM)
    world.cycle()
    token = parse_qs(urlsplit(world.link(world.confirmations()[0])).query)["jeton"][0]
    refused = world.post("/confirmer", {"jeton": token}, Origin="https://evil.example")
    assert refused.status_code == 403 and world.rows()[0]["confirme_le"] == ""


def test_same_origin_posts_and_posts_without_browser_headers_are_accepted(world: World):
    same = world.post("/inscription", FORM, **{"Sec-Fetch-Site": "same-origin"})
    curl = requests.post(world.url + "/inscription", data={**FORM, "telephone": "0756123456"},
                         allow_redirects=False, timeout=10)
    assert same.status_code == curl.status_code == 303
    assert len(world.rows()) == 2


# -- the WhatsApp button (through the webhook of issue 9) ----------------------------------------


def test_whatsapp_button_confirms_only_from_the_number_it_was_sent_to(world: World):
    world.post("/inscription", FORM)
    world.cycle()
    payload = world.confirmations()[0]["button_payload"]
    def answer_from(numero: str):
        return confirm_token(world.register, payload, secret=SECRET, now=world.clock(),
                             from_number=numero)

    other = answer_from("33756123456")
    assert other.outcome is Outcome.INVALID and world.rows()[0]["confirme_le"] == ""
    right = answer_from("33612345678")
    assert right.outcome is Outcome.CONFIRMED and right.kind == "inscription"
    assert answer_from("33612345678").outcome is Outcome.ALREADY


def test_webhook_message_with_the_button_reply_confirms(world: World):
    world.post("/inscription", FORM)
    world.cycle()
    payload = world.confirmations()[0]["button_payload"]
    now = world.clock()
    text = {"from": "33612345678", "type": "text", "text": {"body": "oui"}}
    assert confirm_buttons(world.register, [text], secret=SECRET, now=now) == [None]
    tap = {"from": "33612345678", "id": "wamid.x", "type": "button",
           "button": {"payload": payload, "text": "Je confirme"}}
    [result] = confirm_buttons(world.register, [tap], secret=SECRET, now=now)
    assert result is not None and result.outcome is Outcome.CONFIRMED
    world.cycle()
    assert world.rows()[0]["statut"] == schema.ACTIF


def test_the_site_says_what_the_messages_say():
    root = Path(__file__).resolve().parent.parent / "content" / "pages"
    pages = " ".join(
        (root / name).read_text("utf-8").replace("\n", " ")
        for name in ("inscription.md", "merci-inscription.md", "desinscription.md",
                     "merci-desinscription.md", "faq.md")
    )
    for sentence in SITE_SENTENCES:
        assert sentence in pages, sentence
    assert "vérifie chaque demande" not in pages  # the CMA does not: the phone confirms
    assert "puis confirmez le nouveau message" in pages  # a new sign-up corrects the first

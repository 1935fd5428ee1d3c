"""What an attacker filling the public form can make the CMA spend in a day.

WhatsApp and SMS are both configured (emulators; SMS fallback on), 200 active members, the
default budgets (30 confirmation messages per channel per rolling 24 h, 2,000 SMS parts a
month). Over a simulated 24 h (the sender's, the journal's and the form limiter's clocks are
injected; a cycle every 30 simulated minutes), 1,000 sign-ups of distinct French mobile numbers
and 200 of foreign numbers are posted to the form over real HTTP from 100 client addresses
(behind the trusted proxy, `X-Forwarded-For`); half of the French numbers have no WhatsApp
(131026).

Main run: reverse confirmation (`WHATSAPP_NUMERO_PUBLIC`), the production set-up. The attacker
also presses « Je n'ai pas WhatsApp : recevoir un SMS » on the page of every French sign-up —
his best way to make the CMA pay. Meanwhile, 10 real people sign up on the form and send the
code their page shows from their phone (a signed webhook from the emulator).

- `outbound_confirmations`: confirmation messages sent (WhatsApp and SMS), target ≤ the budget
  of one channel (the attacker can only reach SMS, through the button);
- `sms_parts`: billed SMS parts of the day, target ≤ the budget's share (2 parts a message);
- `foreign_messages`: messages to numbers outside the French operators' regions, target 0;
- `cost_eur`: the day's estimated cost (indicative rates of `Settings.rates`);
- `legit_whatsapp_confirmed`: the 10 real sign-ups `actif` one cycle after their message;
- `form_refusals`: posts the form answered 400 (the foreign numbers);
- `no_reverse_*`: the same attack without reverse confirmation (every sign-up gets a WhatsApp
  template, never an SMS on 131026): outbound confirmations and cost.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import requests

from sender import schema
from sender.config import Settings
from sender.consent.messages import TEMPLATES
from sender.consent.tokens import load_secret
from sender.dates import PARIS
from sender.delivery.store import DeliveryStore
from sender.domain.phones import allowed_country
from sender.intake.app import create_app
from sender.intake.server import make_server
from sender.intake.webhook import WebhookEndpoint
from sender.journal.asked import SmsRequests
from sender.journal.journal import Journal
from sender.limits import FRENCH_REGIONS, Limits
from sender.register.sqlite import SQLiteRegister
from sender.runner import Sender
from sender.schema import ACTIVITES
from support.emulators.smsgateway import SmsGatewayEmulator
from support.scenario import (
    APP_SECRET,
    VERIFY_TOKEN,
    TimedWhatsAppEmulator,
    fill,
    quiet_console,
    whatsapp_settings,
)
from support.site import build_fixture_site, served

FRENCH = 1000
FOREIGN = 200
ADDRESSES = 100
MEMBERS = 200
STEPS = 48  # one cycle every 30 simulated minutes
STEP_SECONDS = 1800.0
SECRET = "secret-du-banc-abus-pour-les-liens-0123456789abcdef"
NETWORK = "33466000000"  # WHATSAPP_NUMERO_PUBLIC, digits
FOREIGN_PREFIXES = ["+44 7911 1", "+32 470 1", "+41 79 1", "+49 151 1", "+850 191 1"]


class SimClock:
    def __init__(self) -> None:
        self.t = datetime.now(PARIS).timestamp()

    def time(self) -> float:
        return self.t

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.t, PARIS)


def french(i: int) -> str:
    return f"07 58 {i // 10000:02d} {i // 100 % 100:02d} {i % 100:02d}"


def foreign(i: int) -> str:
    return f"{FOREIGN_PREFIXES[i % len(FOREIGN_PREFIXES)]}{i:05d}"


def _form(telephone: str, i: int) -> dict[str, str]:
    return {"nom": f"Personne {i}", "entreprise": f"Commerce {i}",
            "activite": ACTIVITES[0], "commune": "Mende",
            "telephone": telephone, "consentement": "oui"}


@contextmanager
def _intake(directory: Path, register_path: Path, clock: SimClock, settings: Settings,
            reverse: bool) -> Iterator[str]:
    site_dir, templates = build_fixture_site(directory)
    endpoint = WebhookEndpoint(lambda: DeliveryStore(settings.journal),
                               verify_token=VERIFY_TOKEN, app_secret=APP_SECRET)
    store = SmsRequests(settings.journal)
    app = create_app(
        lambda: SQLiteRegister(register_path), site_dir, templates, clock=clock.time,
        secret=lambda: load_secret(settings), webhook=endpoint,
        whatsapp_number=NETWORK if reverse else None,
        sms_requests=(lambda: store) if reverse else None,
    )
    server = make_server(app, "127.0.0.1", 0, trusted_proxy="127.0.0.1", per_address=0)
    try:
        with served(server) as url:
            yield url
    finally:
        endpoint.close()
        store.close()


def _post(url: str, session: requests.Session, telephone: str, i: int, address: str
          ) -> requests.Response:
    return session.post(url + "inscription", data=_form(telephone, i), timeout=30,
                        headers={"X-Forwarded-For": address}, allow_redirects=False)


def _attack(url: str, session: requests.Session, posts: list[tuple[str, int]],
            refusals: list[int], reverse: bool) -> None:
    """The attacker's posts of one step; with reverse confirmation he also asks an SMS."""
    for telephone, i in posts:
        address = f"10.0.{i % ADDRESSES // 250}.{i % ADDRESSES % 250 + 1}"
        answer = _post(url, session, telephone, i, address)
        if answer.status_code == 400:
            refusals.append(i)
            continue
        if answer.status_code != 303:
            raise RuntimeError(f"form answered {answer.status_code} for post {i}")
        code = re.search(r"code=(\d{6})", answer.headers.get("Location", ""))
        if reverse and code:
            asked = session.post(url + "demande-sms", timeout=30,
                                 data={"type": "inscription", "code": code.group(1)},
                                 headers={"X-Forwarded-For": address})
            if asked.status_code != 200:
                raise RuntimeError(f"SMS request answered {asked.status_code}")


def _legit(url: str, session: requests.Session, wa: TimedWhatsAppEmulator, i: int) -> str:
    """A real person signs up and sends the code of the page from their phone; their name."""
    telephone = f"+3375900{i:04d}"
    answer = _post(url, session, telephone, 90_000 + i, f"192.168.7.{i + 1}")
    code = re.search(r"code=(\d{6})", answer.headers.get("Location", ""))
    if code is None:
        raise RuntimeError(f"no code for the real sign-up {i} ({answer.status_code})")
    page = session.get(url + answer.headers["Location"].lstrip("/"), timeout=30).text
    (text,) = re.findall(r'href="https://wa\.me/\d+\?text=([^"]+)"', page)
    wa.incoming_text(telephone, unquote(text))
    if not wa.flush_webhooks():
        raise RuntimeError("webhook not delivered")
    return f"Personne {90_000 + i}"


def _day(reverse: bool) -> dict[str, Any]:
    posts = [(french(i), i) for i in range(FRENCH)]
    posts += [(foreign(i), FRENCH + i) for i in range(FOREIGN)]
    total = len(posts)
    posts.sort(key=lambda p: p[1] * 7919 % total)  # French and foreign, interleaved
    clock = SimClock()
    with tempfile.TemporaryDirectory(prefix="bench-abuse-") as name, \
            TimedWhatsAppEmulator(latency=0.0) as wa, \
            SmsGatewayEmulator(api_key="cle-sms") as gateway:
        directory = Path(name)
        for template in TEMPLATES.values():
            wa.add_template(template, parameters=("date_limite", "lien"), quick_reply=True)
        wa.not_on_whatsapp(*(f"+33758{i:06d}" for i in range(0, FRENCH, 2)))
        register_path = directory / "registre.sqlite"
        register = SQLiteRegister(register_path)
        fill(register, MEMBERS)
        settings = whatsapp_settings(
            directory, str(register_path), wa, secret=SECRET, daily_limit=250,
            site_url="https://alerte.example", sms_api_key="cle-sms", sms_api=gateway.api_url,
            sms_fallback=True, limits=Limits(), whatsapp_app_secret=APP_SECRET,
            whatsapp_verify_token=VERIFY_TOKEN,
            whatsapp_numero_public=NETWORK if reverse else None,
        )
        sender = Sender(register, settings, console=quiet_console(), progress=False,
                        clock=clock.now, status_clock=clock.time)
        sender._journal = Journal(settings.journal, clock=clock.time)
        refusals: list[int] = []
        legit: list[str] = []
        confirmed = 0
        per_step = -(-len(posts) // STEPS)
        with _intake(directory, register_path, clock, settings, reverse) as url, \
                requests.Session() as session:
            wa.webhooks(url + "webhooks/whatsapp", APP_SECRET, delay=0.0)
            for step in range(STEPS):
                _attack(url, session, posts[step * per_step:(step + 1) * per_step], refusals,
                        reverse)
                names = [_legit(url, session, wa, step)] if reverse and 5 <= step < 15 else []
                sender.run_once()
                confirmed += sum(_status(register, n) == schema.ACTIF for n in names)
                legit += names
                clock.t += STEP_SECONDS
        sender.close()
        register.close()
        confirmations = [a for a in wa.accepted if ":confirmation-" in (a.callback or "")]
        sms = list(gateway.accepted)
        foreign_messages = sum(
            not allowed_country("+" + a.to, FRENCH_REGIONS) for a in wa.accepted
        ) + sum(not allowed_country("+" + s.numero.lstrip("+"), FRENCH_REGIONS) for s in sms)
        parts = sum(s.sms_count for s in sms)
        return {
            "posts": len(posts) + len(legit),
            "form_refusals": len(refusals),
            "outbound_confirmations": len(confirmations) + len(sms),
            "sms_parts": parts,
            "foreign_messages": foreign_messages,
            "cost_eur": round(settings.rates.estimate(len(confirmations), parts), 2),
            "legit_whatsapp_confirmed": confirmed,
        }


def _status(register: SQLiteRegister, name: str) -> str:
    rows = register.read([schema.INSCRIPTIONS])[schema.INSCRIPTIONS].as_dicts()
    return next((r["statut"] for r in rows if r["nom"] == name), "")


def run() -> dict[str, Any]:
    main = _day(reverse=True)
    without = _day(reverse=False)
    return {
        **main,
        "budget": Limits().confirmations_per_day,
        "no_reverse_outbound_confirmations": without["outbound_confirmations"],
        "no_reverse_sms_parts": without["sms_parts"],
        "no_reverse_foreign_messages": without["foreign_messages"],
        "no_reverse_cost_eur": without["cost_eur"],
    }


if __name__ == "__main__":
    print(run())

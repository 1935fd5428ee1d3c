"""What an attacker filling the public form can make the CMA spend in a day.

WhatsApp and SMS are both configured (emulators; SMS fallback on), 200 active members, the
default budgets (30 confirmation messages per channel per rolling 24 h, 2,000 SMS parts a
month). Over a simulated 24 h (the sender's and the journal's clocks are injected; a cycle
every 30 simulated minutes), 1,000 sign-ups of distinct French mobile numbers and 200 of
foreign numbers are posted to the form over real HTTP from 100 client addresses (behind the
trusted proxy, `X-Forwarded-For`); half of the French numbers have no WhatsApp (131026).

- `outbound_confirmations`: confirmation messages sent (WhatsApp and SMS), target ≤ the budget;
- `sms_parts`: billed SMS parts of the whole day, target ≤ the budget's share (no SMS asked:
  131026 never turns into an SMS for a confirmation);
- `foreign_messages`: messages to numbers outside the French operators' regions, target 0;
- `cost_eur`: the day's estimated cost (indicative rates of `Settings.rates`);
- `form_refusals`: posts the form answered 400 (the foreign numbers);
- `legit_whatsapp_confirmed`: 10 real sign-ups through the WhatsApp path during the attack,
  confirmed within one cycle — needs the reverse confirmation (the person writes to the
  network's number); reported as not measured (-1) where that flow does not exist.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import requests

from sender.consent.messages import TEMPLATES
from sender.dates import PARIS
from sender.domain.phones import allowed_country
from sender.intake.app import create_app
from sender.intake.server import make_server
from sender.journal.journal import Journal
from sender.limits import FRENCH_REGIONS, Limits
from sender.register.sqlite import SQLiteRegister
from sender.runner import Sender
from sender.schema import ACTIVITES
from support.emulators.smsgateway import SmsGatewayEmulator
from support.scenario import TimedWhatsAppEmulator, fill, quiet_console, whatsapp_settings
from support.site import build_fixture_site

FRENCH = 1000
FOREIGN = 200
ADDRESSES = 100
MEMBERS = 200
STEPS = 48  # one cycle every 30 simulated minutes
STEP_SECONDS = 1800.0
SECRET = "secret-du-banc-abus-pour-les-liens-0123456789abcdef"
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
def _intake(directory: Path, register_path: Path, clock: SimClock) -> Iterator[str]:
    site_dir, templates = build_fixture_site(directory)
    app = create_app(lambda: SQLiteRegister(register_path), site_dir, templates,
                     clock=clock.time)
    server = make_server(app, "127.0.0.1", 0, trusted_proxy="127.0.0.1", per_address=0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield server.url
    finally:
        server.close()
        thread.join(timeout=10)


def _post_share(url: str, session: requests.Session, posts: list[tuple[str, int]],
                refusals: list[int]) -> None:
    for telephone, i in posts:
        address = f"10.0.{i % ADDRESSES // 250}.{i % ADDRESSES % 250 + 1}"
        answer = session.post(url + "inscription", data=_form(telephone, i), timeout=30,
                              headers={"X-Forwarded-For": address}, allow_redirects=False)
        if answer.status_code == 400:
            refusals.append(i)
        elif answer.status_code != 303:
            raise RuntimeError(f"form answered {answer.status_code} for post {i}")


def run() -> dict[str, Any]:
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
            sms_fallback=True, limits=Limits(),
        )
        sender = Sender(register, settings, console=quiet_console(), progress=False,
                        clock=clock.now, status_clock=clock.time)
        sender._journal = Journal(settings.journal, clock=clock.time)
        refusals: list[int] = []
        per_step = -(-len(posts) // STEPS)
        with _intake(directory, register_path, clock) as url, requests.Session() as session:
            for step in range(STEPS):
                _post_share(url, session, posts[step * per_step:(step + 1) * per_step],
                            refusals)
                sender.run_once()
                clock.t += STEP_SECONDS
        sender.close()
        register.close()
        confirmations = [a for a in wa.accepted if ":confirmation-" in (a.callback or "")]
        sms = list(gateway.accepted)
        foreign_messages = sum(
            not allowed_country("+" + a.to, FRENCH_REGIONS) for a in wa.accepted
        ) + sum(not allowed_country("+" + s.numero.lstrip("+"), FRENCH_REGIONS) for s in sms)
        parts = sum(s.sms_count for s in sms)
        cost = settings.rates.estimate(len(confirmations), parts)
    return {
        "posts": len(posts),
        "form_refusals": len(refusals),
        "budget": Limits().confirmations_per_day,
        "outbound_confirmations": len(confirmations) + len(sms),
        "whatsapp_confirmations": len(confirmations),
        "sms_parts": parts,
        "foreign_messages": foreign_messages,
        "cost_eur": round(cost, 2),
        "legit_whatsapp_confirmed": -1,
    }


if __name__ == "__main__":
    print(run())

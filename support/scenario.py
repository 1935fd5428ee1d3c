"""Building blocks shared by the benchmarks and the reliability tests.

Everything here talks to local files and to emulators bound to 127.0.0.1: registers filled with
members that are already clean, one alert ready to send, settings pointing at the emulators, an
environment for a real `alerte-message` subprocess, and a WhatsApp emulator that timestamps what
it accepts.
"""

from __future__ import annotations

import io
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console

from sender import schema
from sender.channels.base import Channel, OutgoingMessage, RetryPolicy, UncertainError
from sender.config import Settings
from sender.errors import ConfigurationError
from sender.register.base import Register
from sender.register.defaults import (
    SEQUEL_TEMPLATES,
    WHATSAPP_BODIES,
    WHATSAPP_PREVENTION_TEMPLATE,
    WHATSAPP_TEMPLATE,
)
from sender.register.sheets.client import GoogleSheetsRegister
from sender.register.sqlite import SQLiteRegister
from support.emulators.http import Request
from support.emulators.sheets import SheetsEmulator, local_client
from support.emulators.whatsapp import WhatsAppEmulator
from support.site import served

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "jeton-secret-de-bench-0123456789"
APP_SECRET = "secret-d-application-de-test-0123456789"
VERIFY_TOKEN = "jeton-de-verification-de-test"
PHONE_ID = "106540352242922"
AGENT = "G48001"
AGENT_EMAIL = "adjudant.martin.g48001@gmail.com"
PREVENTION_TEXT = "Des faux billets de 50 euros circulent : vérifiez-les avant de les accepter."

# Google Sheets requests of one cycle of a warm sender (the API quota counts requests). An idle
# poll reads once; when idle, the protection of `Alertes` is checked again at most every
# 10 minutes (one more request then, `runner.PROTECTION_SECONDS`). A dispatch reads, checks that
# protection afresh (one metadata request: the alert goes out only when `Alertes` is editable by
# the habilitated officers alone), then writes « en cours » and the results, each write preceded
# by one look at where the rows are now (rows are addressed by id, not by position):
# 1 + 1 + 2 × 2 = 6.
SHEETS_IDLE_BUDGET = 1
SHEETS_PROTECTION_CHECK = 1
SHEETS_DISPATCH_BUDGET = 1 + SHEETS_PROTECTION_CHECK + 2 * 2

# Named body parameters of the default WhatsApp templates (sender/register/defaults.py).
INCIDENT_PARAMETERS = ("nature", "lieu", "moment", "faits", "auteurs", "service")
PREVENTION_PARAMETERS = ("message", "service")
SEQUEL_PARAMETERS = ("origine_le", "origine", "nouvelles", "service")


def alerte_message_bin() -> str:
    """The `alerte-message` console script of the running interpreter's environment."""
    candidate = Path(sys.executable).with_name("alerte-message")
    return str(candidate) if candidate.exists() else "alerte-message"


def quiet_console() -> Console:
    """A console that swallows everything (no terminal noise in benchmarks or tests)."""
    return Console(file=io.StringIO(), force_terminal=False, width=120)


def mobile(index: int) -> str:
    """A distinct, valid French mobile number in E.164 for every index below 10**8."""
    return f"+336{index:08d}"


def mobiles(count: int, start: int = 0) -> list[str]:
    """`count` distinct mobile numbers, those of indexes `start`, `start + 1`…"""
    return [mobile(index) for index in range(start, start + count)]


def channel_options(sleeps: list[float] | None = None, **kwargs: Any) -> dict[str, Any]:
    """Keyword arguments of a channel under test: quick retries, a rate no test reaches, a
    5 s timeout, and the waits it would sleep appended to `sleeps` instead (when given)."""
    kwargs.setdefault("retry", RetryPolicy(max_attempts=4, base_delay=0.001, max_delay=0.002))
    kwargs.setdefault("rate_per_second", 1000.0)
    kwargs.setdefault("timeout", 5.0)
    if sleeps is not None:
        kwargs.setdefault("sleep", sleeps.append)
    return kwargs


def member_rows(count: int, *, start: int = 0, clean: bool = True) -> list[dict[str, str]]:
    """`count` sign-ups with distinct mobiles in Mende (police zone).

    With `clean=True` the sender's columns are already filled (statut actif, E.164, INSEE code,
    zone), as after a cleaning: the next cycle has nothing to rewrite.
    """
    rows = []
    for i in range(start, start + count):
        row = {
            "id": str(i + 1),
            "horodatage": "01/03/2026 09:00",
            "source": "import",
            "nom": f"Adhérent {i}",
            "entreprise": f"Commerce {i}",
            "activite": "Commerce de détail",
            "commune": "Mende",
            "telephone": mobile(i),
            "consentement": "v1",
        }
        if clean:
            row.update(statut="actif", numero=mobile(i), code_insee="48095", zone="police",
                       remarque="")
        rows.append(row)
    return rows


def officer_rows() -> list[dict[str, str]]:
    return [{"identifiant": AGENT, "nom": "Adjudant Martin",
             "service": "Gendarmerie de la Lozère", "actif": "oui", "email": AGENT_EMAIL}]


def prevention_alert(alert_id: str = "1", *, statut: str = schema.A_DIFFUSER,
                     **extra: str) -> dict[str, str]:
    """A prevention alert: no one-hour rule, no dates needed, every member targeted."""
    row = {
        "id": alert_id,
        "service": "Gendarmerie de la Lozère",
        "agent": AGENT,
        "type": "prévention",
        "description": PREVENTION_TEXT,
        "cible_zone": "toutes",
        "statut": statut,
    }
    row.update(extra)
    return row


def deliver_concurrently(channel: Channel, messages: Iterable[OutgoingMessage], *,
                         threads: int = 16) -> list[bool]:
    """Deliver `messages` from `threads` threads; for each, True once delivered, False when
    the channel could not know whether it went (`UncertainError`)."""

    def deliver(message: OutgoingMessage) -> bool:
        try:
            channel.deliver(message)
        except UncertainError:
            return False
        return True

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(deliver, messages))


def sheets_register(sheets: SheetsEmulator, tabs: dict[str, list[list[Any]]] | None = None,
                    **options: Any) -> tuple[GoogleSheetsRegister, str]:
    """A Google Sheets register on a new spreadsheet of the emulator, under a key of its own
    (``tabs`` as `SheetsEmulator.create_spreadsheet` takes them), its waits skipped."""
    key = "1Ab" + uuid.uuid4().hex + "reg"
    sheets.create_spreadsheet(key, tabs)
    options.setdefault("sleep", lambda _seconds: None)
    return GoogleSheetsRegister(key, local_client(sheets.base_url), **options), key


def sqlite_register(path: Path, members: int, *, alert: Mapping[str, str] | None = None,
                    clean: bool = True, chunk: int = 20_000) -> SQLiteRegister:
    """A SQLite register with its tabs, default templates, one officer and `members` sign-ups."""
    register = SQLiteRegister(path)
    fill(register, members, alert=alert, clean=clean, chunk=chunk)
    return register


def fill(register: Register, members: int, *, alert: Mapping[str, str] | None = None,
         clean: bool = True, chunk: int = 20_000) -> None:
    """Tabs, templates, one officer (whose account alone may edit `Alertes` on Google Sheets),
    `members` sign-ups and the alert."""
    register.initialise()
    register.append(schema.HABILITATIONS, officer_rows())
    register.initialise()  # Google Sheets: the officer's account becomes the editor of Alertes
    for start in range(0, members, chunk):
        register.append(schema.INSCRIPTIONS,
                        member_rows(min(chunk, members - start), start=start, clean=clean))
    if alert is not None:
        register.append(schema.ALERTES, [dict(alert)])


def alert_row(register: Register, alert_id: str = "1") -> dict[str, str]:
    table = register.read([schema.ALERTES])[schema.ALERTES]
    for row in table.rows:
        if row.get("id") == alert_id:
            return dict(row.values)
    raise KeyError(alert_id)


def whatsapp_settings(tmp: Path, register: str, wa: WhatsAppEmulator, **overrides: Any
                      ) -> Settings:
    """Settings for a WhatsApp dispatch against the emulator (no SMS fallback)."""
    settings = Settings(
        register=register,
        journal=tmp / "journal.sqlite",
        channel="whatsapp",
        outbox=tmp / "outbox.jsonl",
        whatsapp_token=TOKEN,
        whatsapp_phone_id=PHONE_ID,
        whatsapp_api=wa.base_url,
        rate_per_second=500.0,
        concurrency=64,
        daily_limit=1_000_000,
        sms_fallback=False,
        http_timeout=5.0,
    )
    return replace(settings, **overrides)


def _no_register() -> Register:
    raise ConfigurationError("pas de registre pour ce serveur de webhook")


@contextmanager
def webhook_receiver(journal: Path, *, threads: int = 4) -> Iterator[str]:
    """The sender's intake application serving only its WhatsApp webhook (events stored in
    `journal`), on 127.0.0.1; yields the webhook's URL."""
    from waitress.server import create_server

    from sender.delivery.store import DeliveryStore
    from sender.intake.app import create_app
    from sender.intake.server import IntakeServer
    from sender.intake.webhook import WebhookEndpoint

    endpoint = WebhookEndpoint(
        lambda: DeliveryStore(journal), verify_token=VERIFY_TOKEN, app_secret=APP_SECRET
    )
    app = create_app(_no_register, journal.parent, ROOT / "site" / "templates", webhook=endpoint)
    server = IntakeServer(create_server(app, host="127.0.0.1", port=0, threads=threads,
                                        ident="alerte-message"))
    try:
        with served(server, "webhook") as url:
            yield f"{url}webhooks/whatsapp"
    finally:
        endpoint.close()


def kill_mid_dispatch(
    command: list[str], env: Mapping[str, str], logs: Any, wa: WhatsAppEmulator,
    rng: random.Random,
) -> int | None:
    """Start `command`, let it run a random moment (in one run out of five maybe still starting
    up, otherwise once it has sent something), then `kill -9` it. Returns how many messages the
    emulator had accepted before the start when it was killed, None when it ended first."""
    before = len(wa.accepted)
    process = subprocess.Popen(command, env=dict(env), stdout=logs, stderr=logs)
    deadline = time.monotonic() + 30
    if rng.random() < 0.2:
        time.sleep(rng.uniform(0.05, 0.8))
    else:
        while (len(wa.accepted) == before and process.poll() is None
               and time.monotonic() < deadline):
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.35))
    if process.poll() is not None:
        return None
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    return before


def subprocess_env(tmp: Path, register: str, *, wa: WhatsAppEmulator | None = None,
                   **extra: str) -> dict[str, str]:
    """Environment for a real `alerte-message` process (never the user's own settings)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ALERTE_", "WHATSAPP_", "SMS_", "GOOGLE_"))}
    env.update(
        ALERTE_REGISTRE=register,
        ALERTE_JOURNAL=str(tmp / "journal.sqlite"),
        ALERTE_OUTBOX=str(tmp / "outbox.jsonl"),
        ALERTE_SMS_SECOURS="non",
        PYTHONUNBUFFERED="1",
        COLUMNS="120",
    )
    if wa is not None:
        env.update(
            ALERTE_CANAL="whatsapp",
            WHATSAPP_TOKEN=TOKEN,
            WHATSAPP_PHONE_NUMBER_ID=PHONE_ID,
            WHATSAPP_API_URL=wa.base_url,
            WHATSAPP_PLAFOND_JOURNALIER="1000000",
        )
    env.update(extra)
    return env


class TimedWhatsAppEmulator(WhatsAppEmulator):
    """The WhatsApp emulator, plus the monotonic time of the first and last accepted message."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("token", TOKEN)
        kwargs.setdefault("phone_number_id", PHONE_ID)
        super().__init__(**kwargs)
        # With the approved bodies docs/production.md submits (the diagnostic compares them).
        self.add_template(WHATSAPP_TEMPLATE, parameters=INCIDENT_PARAMETERS,
                          body=WHATSAPP_BODIES[WHATSAPP_TEMPLATE])
        self.add_template(WHATSAPP_PREVENTION_TEMPLATE, parameters=PREVENTION_PARAMETERS,
                          body=WHATSAPP_BODIES[WHATSAPP_PREVENTION_TEMPLATE])
        for name in SEQUEL_TEMPLATES.values():
            self.add_template(name, parameters=SEQUEL_PARAMETERS, body=WHATSAPP_BODIES[name])
        self.first_accept: float | None = None
        self.last_accept: float | None = None
        self.first_event = threading.Event()

    def start(self) -> TimedWhatsAppEmulator:
        super().start()
        if self._server is not None:  # clients killed mid-request are expected: no tracebacks
            self._server.handle_error = lambda request, address: None  # type: ignore[method-assign]
        return self

    def handle(self, request: Request):  # type: ignore[override]
        reply = super().handle(request)
        if reply.status == 200:
            now = time.monotonic()
            with self._lock:
                if self.first_accept is None:
                    self.first_accept = now
                self.last_accept = now
            self.first_event.set()
        return reply

    def duplicates(self) -> int:
        """Messages accepted beyond the first one for their number."""
        return sum(n - 1 for n in self.accepted_numbers().values() if n > 1)

    def missed(self, numbers: Iterable[str]) -> int:
        counts = self.accepted_numbers()
        return sum(1 for n in numbers if counts.get(n.lstrip("+"), 0) == 0)

"""Every service the diagnostic asks, as local emulators: a Google sheet made by `initialiser`
(Sheets and Drive), the WhatsApp Business account (Graph API), Brevo, and the public site
(the intake application on 127.0.0.1 with its webhook). Shared by tests and bench."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sender.config import Settings
from sender.diagnostic import Services
from sender.register.defaults import WHATSAPP_BODIES
from support.emulators.sheets import SERVICE_ACCOUNT, SheetsEmulator, local_client
from support.emulators.smsgateway import SmsGatewayEmulator
from support.emulators.whatsapp import WhatsAppEmulator
from support.scenario import (
    APP_SECRET,
    PHONE_ID,
    ROOT,
    TOKEN,
    VERIFY_TOKEN,
    fill,
    sheets_register,
)
from support.site import served

SMS_KEY = "xkeysib-cle-de-test-0123456789"

Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def with_health(app: Wsgi) -> Wsgi:
    """The intake application, plus a `/sante` answering 200 in JSON where the application
    has none of its own (the real one answers first when it exists)."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/sante":
            return app(environ, start_response)
        status: list[str] = []

        def capture(code: str, headers: list[tuple[str, str]], exc: Any = None) -> Any:
            status.append(code)
            return start_response(code, headers, exc) if not code.startswith("404") \
                else (lambda data: None)

        body = app(environ, capture)
        if status and not status[0].startswith("404"):
            return body
        data = json.dumps({"etat": "ok"}).encode()
        start_response("200 OK", [("Content-Type", "application/json"),
                                  ("Content-Length", str(len(data)))])
        return [data]

    return wrapped


@contextmanager
def public_site(journal: Path) -> Iterator[str]:
    """The intake application (webhook with the test verify token) on 127.0.0.1; yields its
    root URL without the final slash."""
    from waitress.server import create_server

    from sender.delivery.store import DeliveryStore
    from sender.errors import ConfigurationError
    from sender.intake.app import create_app
    from sender.intake.server import IntakeServer
    from sender.intake.webhook import WebhookEndpoint

    def no_register() -> Any:
        raise ConfigurationError("pas de registre pour ce site")

    endpoint = WebhookEndpoint(lambda: DeliveryStore(journal), verify_token=VERIFY_TOKEN,
                               app_secret=APP_SECRET)
    app = create_app(no_register, journal.parent, ROOT / "site" / "templates", webhook=endpoint)
    server = IntakeServer(create_server(with_health(app), host="127.0.0.1", port=0, threads=2,
                                        ident="alerte-message"))
    try:
        with served(server, "site") as url:
            yield url.rstrip("/")
    finally:
        endpoint.close()


@dataclass
class World:
    settings: Settings
    services: Services
    sheets: SheetsEmulator
    key: str
    whatsapp: WhatsAppEmulator
    sms: SmsGatewayEmulator
    credentials: Path


def add_templates(wa: WhatsAppEmulator) -> None:
    """Every template of `WHATSAPP_BODIES`, approved, as docs/production.md submits them (the
    named parameters in the order of the body)."""
    for name, body in WHATSAPP_BODIES.items():
        wa.add_template(name, parameters=tuple(re.findall(r"\{\{([a-z_][a-z0-9_]*)\}\}", body)),
                        body=body)


@contextmanager
def diagnostic_world(tmp: Path, sheets: SheetsEmulator, *, members: int = 20) -> Iterator[World]:
    """A production-like installation where every check is ✓ (tests then break one thing)."""
    register, key = sheets_register(sheets)
    fill(register, members)
    credentials = tmp / "compte-de-service.json"
    credentials.write_text(json.dumps({"type": "service_account",
                                       "client_email": SERVICE_ACCOUNT}), "utf-8")
    data = tmp / "data"
    data.mkdir(mode=0o700, exist_ok=True)
    with ExitStack() as stack:
        wa = stack.enter_context(WhatsAppEmulator(token=TOKEN, phone_number_id=PHONE_ID))
        add_templates(wa)
        sms = stack.enter_context(SmsGatewayEmulator(api_key=SMS_KEY, credits=5000))
        site = stack.enter_context(public_site(data / "journal.sqlite"))
        settings = Settings(
            register=f"https://docs.google.com/spreadsheets/d/{key}/edit",
            credentials=str(credentials), journal=data / "journal.sqlite", channel="whatsapp",
            whatsapp_token=TOKEN, whatsapp_phone_id=PHONE_ID, whatsapp_api=wa.base_url,
            whatsapp_app_secret=APP_SECRET, whatsapp_verify_token=VERIFY_TOKEN,
            whatsapp_business_id=wa.graph.business_account_id,
            sms_api_key=SMS_KEY, sms_api=sms.api_url, site_url=site,
            secret="s" * 48,
        )
        services = Services(gspread_client=lambda: local_client(sheets.base_url), timeout=5.0)
        yield World(settings, services, sheets, key, wa, sms, credentials)

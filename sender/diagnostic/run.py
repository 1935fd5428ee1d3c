"""Run every check: the independent ones in parallel threads, then those that need their
results (templates against `Modeles`, SMS credits against the members, the clock)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from sender.config import Settings
from sender.diagnostic import local, register, site, sms, whatsapp
from sender.diagnostic.probe import Probe
from sender.diagnostic.report import Line


@dataclass(frozen=True)
class Services:
    """How to reach the services. `gspread_client` makes the Google client (tests give one
    that talks to the emulator; by default the service-account key is used)."""

    gspread_client: register.GspreadFactory | None = None
    timeout: float = 5.0


def run(settings: Settings, services: Services | None = None) -> list[Line]:
    """Every line of the checklist, in a fixed order."""
    services = services or Services()
    probe = Probe(timeout=services.timeout)
    facts = register.RegisterFacts()
    with ThreadPoolExecutor(max_workers=6, thread_name_prefix="diagnostic") as pool:
        def start(fn: Callable[..., object], *args: object) -> Future:
            return pool.submit(fn, *args)

        reg = start(register.check, settings, services.gspread_client, facts)
        account = start(whatsapp.fetch, settings, probe) if settings.channel == "whatsapp" \
            else None
        hooks = start(whatsapp.webhooks, settings, probe)
        health = start(site.health, settings, probe)
        handshake = start(site.handshake, settings, probe)
        register_lines: list[Line] = reg.result()
        sms_account = start(sms.account, settings, probe, facts.active_members())
        graph = account.result() if account else whatsapp.Account()
        lines = [
            local.data_folder(settings), local.secret(settings), local.site_address(settings),
            *register_lines,
            whatsapp.number(settings, graph),
            whatsapp.templates(settings, graph, facts.template_rows()),
            hooks.result(), health.result(), handshake.result(),
            sms_account.result(), sms.sender_name(settings),
        ]
    return [*lines, local.clock(probe.skews), local.disk(settings), local.journal(settings)]

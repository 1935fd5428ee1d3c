"""Commands of the site: servir, demarrer (what `make run` starts), script-google (the rules of
the Apps Script intake)."""

from __future__ import annotations

import argparse
import threading
from dataclasses import replace
from pathlib import Path

from sender.cli.alert_commands import stop_on_signals, watch
from sender.cli.common import err
from sender.config import DEFAULT_SITE_URL, Settings
from sender.register import open_register


def _site_dirs(args: argparse.Namespace) -> tuple[Path, Path]:
    return Path(args.site), Path(args.modeles)


def cmd_servir(args: argparse.Namespace, settings: Settings) -> int:
    from sender.intake.server import serve

    site, templates = _site_dirs(args)
    serve(settings, args.hote, args.port, site, templates)
    return 0


def cmd_demarrer(args: argparse.Namespace, settings: Settings) -> int:
    """Everything `make run` needs: register ready, site + forms served, polling loop."""
    from sender.intake.server import make_app, make_server

    if args.intervalle:
        settings = replace(settings, poll_seconds=args.intervalle)
    if settings.site_url == DEFAULT_SITE_URL:
        # Confirmation links point at this very server unless ALERTE_SITE_URL says otherwise.
        settings = replace(settings, site_url=f"http://{args.hote}:{args.port}")
    with open_register(settings) as register:
        report = register.initialise()
        err.print(f"Registre : {register.describe()}")
        if report.created_tabs:
            err.print("  (registre créé avec ses onglets et ses modèles de message)")
    site, templates = _site_dirs(args)
    app = make_app(settings, site, templates)
    server = make_server(
        app, args.hote, args.port,
        trusted_proxy=settings.trusted_proxy, per_address=settings.connections_per_address,
    )
    thread = threading.Thread(target=server.run, name="site", daemon=True)
    thread.start()
    err.print(f"Site et formulaires : {server.url}")
    err.print(f"Webhook WhatsApp : {server.url.rstrip('/')}/webhooks/whatsapp")
    err.print(f"Messages envoyés (canal « {settings.channel} ») : {settings.outbox}")
    err.print(
        "Pour essayer une alerte, dans un autre terminal :\n"
        "  .venv/bin/alerte-message importer exemples/inscriptions.csv\n"
        "  .venv/bin/alerte-message importer --onglet Habilitations exemples/habilitations.csv\n"
        "  .venv/bin/alerte-message importer --onglet Alertes exemples/alerte-prevention.csv"
    )
    stop = threading.Event()
    stop_on_signals(stop)
    try:
        watch(settings, stop)
    finally:
        server.close()
    return 0


def cmd_script_google(args: argparse.Namespace, settings: Settings) -> int:
    """Write the data of the Apps Script intake from this program's rules."""
    from sender.intake.appsscript import write

    path = Path(args.sortie)
    changed = write(path)
    if changed:
        err.print(f"{path} écrit : copiez-le dans le projet Apps Script, à côté de Code.gs.")
    else:
        err.print(f"{path} était déjà à jour.")
    return 0

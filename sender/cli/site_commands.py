"""Commands of the site: servir, demarrer (what `make run` starts), script-google (the rules of
the Apps Script intake)."""

from __future__ import annotations

import argparse
import threading
from dataclasses import replace
from pathlib import Path

from sender.cli.alert_commands import stop_on_signals, watch
from sender.cli.common import command, err
from sender.config import DEFAULT_SITE_URL, Settings
from sender.register import open_register


def _site_dirs(args: argparse.Namespace) -> tuple[Path, Path]:
    return Path(args.site), Path(args.modeles)


def _listen_arguments(sub: argparse.ArgumentParser) -> None:
    """The options `servir` and `demarrer` share: where to listen, what to serve."""
    sub.add_argument("--hote", default="127.0.0.1", help="adresse d'écoute (127.0.0.1)")
    sub.add_argument("--port", type=int, default=8000, help="port d'écoute (8000)")
    sub.add_argument("--site", default="output", help="dossier du site construit (output)")
    sub.add_argument(
        "--modeles", default="site/templates", help="gabarits des formulaires (site/templates)"
    )


@command(
    "servir",
    "sert le site construit et reçoit les formulaires",
    "alerte-message servir --port 8000",
    arguments=_listen_arguments,
)
def cmd_servir(args: argparse.Namespace, settings: Settings) -> int:
    from sender.intake.server import serve

    site, templates = _site_dirs(args)
    serve(settings, args.hote, args.port, site, templates)
    return 0


def _demarrer_arguments(sub: argparse.ArgumentParser) -> None:
    _listen_arguments(sub)
    sub.add_argument("--intervalle", type=float, metavar="SECONDES",
                     help="délai entre deux passages de l'expéditeur")


@command(
    "demarrer",
    "tout en local : registre, site avec formulaires et surveillance des alertes",
    "alerte-message demarrer --port 8000",
    arguments=_demarrer_arguments,
)
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


def _script_google_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--sortie", default="apps-script/generated.gs", help="fichier à écrire "
        "(apps-script/generated.gs)"
    )
    sub.add_argument(
        "--cle-codes", action="store_true",
        help="affiche aussi la clé des codes de confirmation par WhatsApp, à copier dans la "
        "propriété CLE_CODES_WHATSAPP du script (avec WHATSAPP_NUMERO_PUBLIC)",
    )


@command(
    "script-google",
    "écrit apps-script/generated.gs : règles, listes et messages du formulaire pour le "
    "script Google (Apps Script)",
    "alerte-message script-google",
    arguments=_script_google_arguments,
)
def cmd_script_google(args: argparse.Namespace, settings: Settings) -> int:
    """Write the data of the Apps Script intake from this program's rules."""
    from sender.intake.appsscript import write

    path = Path(args.sortie)
    if args.cle_codes:
        from sender.consent.codes import code_key
        from sender.consent.tokens import load_secret

        print(code_key(load_secret(settings)).hex())
        err.print("Clé des codes WhatsApp ci-dessus : à copier dans la propriété "
                  "CLE_CODES_WHATSAPP du script (Paramètres du projet > Propriétés du script), "
                  "avec WHATSAPP_NUMERO_PUBLIC. Elle permet de fabriquer les codes, jamais de "
                  "signer un lien de confirmation.")
    changed = write(path, countries=settings.limits.countries)
    if changed:
        err.print(f"{path} écrit : copiez-le dans le projet Apps Script, à côté de Code.gs.")
    else:
        err.print(f"{path} était déjà à jour.")
    return 0


def _affiche_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--sortie", default="affiche-inscription.html", metavar="FICHIER",
                     help="fichier HTML à écrire (affiche-inscription.html)")


@command(
    "affiche",
    "écrit l'affiche A4 à imprimer : inscription par WhatsApp avec son code QR",
    "alerte-message affiche --sortie affiche.html",
    arguments=_affiche_arguments,
)
def cmd_affiche(args: argparse.Namespace, settings: Settings) -> int:
    from sender.website.poster import poster_html
    from sender.website.whatsapp import signup_link

    if not settings.whatsapp_numero_public:
        err.print("[red]WHATSAPP_NUMERO_PUBLIC n'est pas défini : l'affiche a besoin du numéro "
                  "WhatsApp du réseau (au format international, par exemple +33 4 66 00 00 00)."
                  "[/red]")
        return 2
    html = poster_html(signup_link(settings.whatsapp_numero_public), site_url=settings.site_url)
    path = Path(args.sortie)
    path.write_text(html, encoding="utf-8")
    err.print(f"Affiche écrite : {path} (l'ouvrir dans un navigateur et l'imprimer en A4).")
    return 0

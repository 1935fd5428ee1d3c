"""Command line `alerte-message`: a thin French shell over the library."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table as RichTable

from sender import frenchargs, registry, schema
from sender.config import Settings
from sender.dates import format_french
from sender.errors import AlerteError
from sender.phonecache import PhoneCache
from sender.register import Register, open_register

if TYPE_CHECKING:
    from sender.runner import CycleReport, Sender

frenchargs.install()
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

EPILOG = """Exemples :
  alerte-message initialiser
  alerte-message importer liste-cma.xlsx
  alerte-message nettoyer
  alerte-message verifier
  alerte-message surveiller

Le registre est choisi par la variable ALERTE_REGISTRE : un fichier SQLite (par défaut
data/registre.sqlite) ou l'adresse d'une feuille Google (avec GOOGLE_APPLICATION_CREDENTIALS)."""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32, width=100)


def _print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def _plural(count: int, singular: str, plural: str) -> str:
    return f"{count} {singular if count < 2 else plural}"


def _register(settings: Settings) -> Register:
    return open_register(settings)


def _phone_cache(settings: Settings) -> PhoneCache:
    return PhoneCache(settings.journal.with_name("numeros.sqlite"))


# -- commands ------------------------------------------------------------------------------


def cmd_initialiser(args: argparse.Namespace, settings: Settings) -> int:
    with _register(settings) as register:
        err.print(f"Registre : {register.describe()}")
        report = registry.initialise(register)
    if not report.changed:
        err.print("Le registre était déjà complet : rien n'a été modifié.")
        return 0
    for tab in report.created_tabs:
        err.print(f"  • onglet créé : {tab}")
    for column in report.added_columns:
        err.print(f"  • colonne ajoutée : {column}")
    for row in report.added_rows:
        err.print(f"  • lignes ajoutées : {row}")
    for item in report.formatting:
        err.print(f"  • mise en forme : {item}")
    err.print("[green]Registre prêt.[/green]")
    return 0


def _print_cleaning(report: registry.CleaningReport) -> None:
    counts = report.statuses
    err.print(
        f"{_plural(report.rows, 'inscription', 'inscriptions')} : "
        f"{_plural(counts.get(schema.ACTIF, 0), 'active', 'actives')}, "
        f"{_plural(counts.get(schema.INVALIDE, 0), 'invalide', 'invalides')}, "
        f"{_plural(counts.get(schema.DOUBLON, 0), 'doublon', 'doublons')}, "
        f"{_plural(counts.get(schema.DESINSCRIT, 0), 'désinscrite', 'désinscrites')}."
    )
    if report.changes:
        err.print(f"{len(report.changes)} cellules mises à jour ({report.changed_rows} lignes).")
    else:
        err.print("Rien de nouveau : aucune écriture dans le registre.")


def cmd_nettoyer(args: argparse.Namespace, settings: Settings) -> int:
    cache = _phone_cache(settings)
    with _register(settings) as register:
        err.print(f"Registre : {register.describe()}")
        report = registry.clean_register(register, phone=cache)
    cache.save()
    _print_cleaning(report)
    return 0


def cmd_importer(args: argparse.Namespace, settings: Settings) -> int:
    tab = registry.tab_name(args.onglet)
    cache = _phone_cache(settings)
    with _register(settings) as register:
        report = registry.import_file(register, Path(args.fichier), tab=tab, phone=cache)
    cache.save()
    if args.json:
        if tab == schema.INSCRIPTIONS:
            _print_json(report.as_json())
        else:
            _print_json(report.rows)
        return 0
    err.print(f"{_plural(len(report.rows), 'ligne importée', 'lignes importées')} "
              f"dans l'onglet {tab}.")
    if report.cleaning is not None:
        _print_cleaning(report.cleaning)
        problems = [
            (row, result) for row, result in zip(report.rows, report.results, strict=True)
            if result is not None and result.remarque
        ]
        if problems:
            table = RichTable(title="Lignes à vérifier", show_lines=False)
            for column in ("téléphone saisi", "statut", "remarque"):
                table.add_column(column)
            for row, result in problems[:50]:
                table.add_row(row.get("telephone", ""), result.statut, result.remarque)
            err.print(table)
            if len(problems) > 50:
                err.print(f"… et {len(problems) - 50} autres (voir « exporter »).")
    return 0


def cmd_exporter(args: argparse.Namespace, settings: Settings) -> int:
    tab = registry.tab_name(args.onglet)
    with _register(settings) as register:
        table = registry.export_tab(register, tab)
    rows = table.as_dicts()
    if args.csv:
        from sender.tabular import to_csv

        sys.stdout.write(to_csv(table.headers, rows))
    elif args.json:
        _print_json(rows)
    else:
        view = RichTable(title=f"{tab} ({len(rows)} lignes)")
        for header in table.headers:
            view.add_column(header, overflow="fold")
        for row in rows:
            view.add_row(*(row[h] for h in table.headers))
        out.print(view)
    return 0


def _sender(settings: Settings) -> Sender:
    from sender.runner import Sender

    return Sender(_register(settings), settings, console=err)


def cmd_verifier(args: argparse.Namespace, settings: Settings) -> int:
    sender = _sender(settings)
    try:
        plans = sender.verify()
    finally:
        sender.close()
    if args.json:
        _print_json([plan.as_json() for plan in plans])
        return 0
    if not plans:
        err.print("Aucune alerte dans l'onglet Alertes.")
        return 0
    table = RichTable(title="Alertes")
    for column in ("id", "verdict", "destinataires", "motif"):
        table.add_column(column, overflow="fold")
    colours = {schema.A_DIFFUSER: "green", schema.REFUSEE: "red"}
    for plan in plans:
        colour = colours.get(plan.verdict, "dim")
        table.add_row(
            plan.alert_id, f"[{colour}]{plan.verdict}[/{colour}]",
            str(len(plan.recipients)), plan.motif,
        )
    out.print(table)
    return 0


def cmd_apercu(args: argparse.Namespace, settings: Settings) -> int:
    sender = _sender(settings)
    try:
        plan, messages = sender.preview(args.id)
    finally:
        sender.close()
    if plan.motif:
        err.print(f"[yellow]Cette alerte serait {plan.verdict} :[/yellow] {plan.motif}")
    for channel, message in messages.items():
        out.rule(f"{channel} — alerte {plan.alert_id}")
        if message.template:
            out.print(f"Modèle WhatsApp : {message.template} ({message.language})")
            for name, value in message.parameters.items():
                out.print(f"  {name} = {value}")
        else:
            out.print(message.text, markup=False, highlight=False)
            out.print(f"[dim]{message.sms.describe()}[/dim]")
    out.print(f"Destinataires visés : {len(plan.recipients)}")
    return 0


def _print_cycle(report: CycleReport) -> None:
    for plan in report.refused:
        err.print(f"[red]Alerte {plan.alert_id} refusée :[/red] {plan.motif}")
    if report.write_error:
        err.print(f"[yellow]Résultats non écrits dans le registre :[/yellow] {report.write_error}")


def cmd_envoyer(args: argparse.Namespace, settings: Settings) -> int:
    sender = _sender(settings)
    try:
        err.print(f"Registre : {sender.register.describe()} — canal : {settings.channel}")
        report = sender.run_once()
    finally:
        sender.close()
    _print_cycle(report)
    seconds = f"{report.seconds:.1f}".replace(".", ",")
    err.print(f"Passage terminé en {seconds} s : {report.summary()}.")
    return 0


def _watch(settings: Settings, stop: threading.Event) -> None:
    sender = _sender(settings)
    err.print(
        f"Surveillance du registre ({sender.register.describe()}) toutes les "
        f"{settings.poll_seconds:g} s, canal « {settings.channel} ». Ctrl-C pour arrêter."
    )

    def on_cycle(report: CycleReport) -> None:
        _print_cycle(report)
        if report.dispatched or report.refused or report.cleaning_changes:
            err.print(f"[dim]{format_french(report.started)} — {report.summary()}[/dim]")

    try:
        sender.watch(stop, on_cycle)
    finally:
        sender.close()
        err.print("Surveillance arrêtée proprement.")


def _stop_on_signals(stop: threading.Event) -> None:
    """First Ctrl-C/SIGTERM: finish the current cycle, then stop. Second: interrupt now (the
    dispatcher records what is in flight and releases its lock)."""

    def handler(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        err.print("Arrêt demandé : fin du passage en cours… (Ctrl-C encore pour couper net)")

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def cmd_surveiller(args: argparse.Namespace, settings: Settings) -> int:
    if args.intervalle:
        settings = replace(settings, poll_seconds=args.intervalle)
    stop = threading.Event()
    _stop_on_signals(stop)
    _watch(settings, stop)
    return 0


def _site_dirs(args: argparse.Namespace) -> tuple[Path, Path]:
    return Path(args.site), Path(args.modeles)


def cmd_servir(args: argparse.Namespace, settings: Settings) -> int:
    from sender.intake.server import serve

    site, templates = _site_dirs(args)
    serve(settings, args.hote, args.port, site, templates)
    return 0


def cmd_demarrer(args: argparse.Namespace, settings: Settings) -> int:
    """Everything `make run` needs: register ready, site + forms served, polling loop."""
    from sender.intake.app import create_app
    from sender.intake.server import make_server

    if args.intervalle:
        settings = replace(settings, poll_seconds=args.intervalle)
    with _register(settings) as register:
        report = registry.initialise(register)
        err.print(f"Registre : {register.describe()}")
        if report.created_tabs:
            err.print("  (registre créé avec ses onglets et ses modèles de message)")
    site, templates = _site_dirs(args)
    app = create_app(
        lambda: open_register(settings), site, templates,
        posts_per_minute=settings.form_posts_per_minute,
    )
    server = make_server(app, args.hote, args.port)
    thread = threading.Thread(target=server.run, name="site", daemon=True)
    thread.start()
    err.print(f"Site et formulaires : {server.url}")
    err.print(f"Messages envoyés (canal « {settings.channel} ») : {settings.outbox}")
    err.print(
        "Pour essayer une alerte, dans un autre terminal :\n"
        "  .venv/bin/alerte-message importer --onglet Habilitations exemples/habilitations.csv\n"
        "  .venv/bin/alerte-message importer --onglet Alertes exemples/alerte-prevention.csv"
    )
    stop = threading.Event()
    _stop_on_signals(stop)
    try:
        _watch(settings, stop)
    finally:
        server.close()
    return 0


# -- parser --------------------------------------------------------------------------------

Handler = Callable[[argparse.Namespace, Settings], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="alerte-message",
        description="Alerte Message : registre des adhérents et diffusion des alertes "
        "(police, gendarmerie, CMA de la Lozère).",
        epilog=EPILOG,
        formatter_class=_Formatter,
    )
    parser.add_argument("-v", "--bavard", action="store_true", help="affiche plus de détails")
    commands = parser.add_subparsers(title="commandes", dest="commande", metavar="COMMANDE")

    def command(name: str, handler: Handler, summary: str, example: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name, help=summary, description=summary, epilog=f"Exemple :\n  {example}",
            formatter_class=_Formatter,
        )
        sub.set_defaults(handler=handler)
        return sub

    command(
        "initialiser", cmd_initialiser,
        "crée les onglets, les en-têtes et les modèles de message (sans rien effacer)",
        "alerte-message initialiser",
    )
    command(
        "nettoyer", cmd_nettoyer,
        "vérifie les numéros, repère les doublons et applique les désinscriptions",
        "alerte-message nettoyer",
    )
    sub = command(
        "importer", cmd_importer,
        "ajoute les lignes d'un fichier CSV ou XLSX au registre",
        "alerte-message importer liste-cma.csv --json",
    )
    sub.add_argument("fichier", metavar="FICHIER", help="fichier CSV (séparateur ; ou ,) ou XLSX")
    sub.add_argument(
        "--onglet", default=schema.INSCRIPTIONS,
        help="onglet de destination : Inscriptions (par défaut), Alertes ou Habilitations",
    )
    sub.add_argument("--json", action="store_true", help="résultat ligne par ligne en JSON")
    sub = command(
        "verifier", cmd_verifier,
        "vérifie chaque alerte (règle de l'heure, agent habilité, ciblage) sans rien envoyer",
        "alerte-message verifier --json",
    )
    sub.add_argument("--json", action="store_true", help="résultat en JSON")
    sub = command(
        "apercu", cmd_apercu, "montre le message exact, canal par canal, pour une alerte",
        "alerte-message apercu 12",
    )
    sub.add_argument("id", metavar="ID", help="identifiant de l'alerte (colonne id)")
    sub = command(
        "envoyer", cmd_envoyer,
        "un passage complet : nettoyage, vérification, diffusion, écriture des résultats",
        "alerte-message envoyer --une-fois",
    )
    sub.add_argument(
        "--une-fois", action="store_true", help="un seul passage (c'est le fonctionnement actuel)"
    )
    sub = command(
        "surveiller", cmd_surveiller,
        "relit le registre à intervalle régulier et diffuse les alertes « à diffuser »",
        "ALERTE_INTERVALLE=30 alerte-message surveiller",
    )
    sub.add_argument(
        "--intervalle", type=float, metavar="SECONDES",
        help="délai entre deux passages (par défaut ALERTE_INTERVALLE ou 60 s)",
    )
    for name, handler, summary, example in (
        ("servir", cmd_servir, "sert le site construit et reçoit les formulaires",
         "alerte-message servir --port 8000"),
        ("demarrer", cmd_demarrer,
         "tout en local : registre, site avec formulaires et surveillance des alertes",
         "alerte-message demarrer --port 8000"),
    ):
        sub = command(name, handler, summary, example)
        sub.add_argument("--hote", default="127.0.0.1", help="adresse d'écoute (127.0.0.1)")
        sub.add_argument("--port", type=int, default=8000, help="port d'écoute (8000)")
        sub.add_argument("--site", default="output", help="dossier du site construit (output)")
        sub.add_argument(
            "--modeles", default="site/templates", help="gabarits des formulaires (site/templates)"
        )
        if name == "demarrer":
            sub.add_argument("--intervalle", type=float, metavar="SECONDES",
                             help="délai entre deux passages de l'expéditeur")
    sub = command(
        "exporter", cmd_exporter, "affiche un onglet du registre",
        "alerte-message exporter --onglet Inscriptions --csv > inscriptions.csv",
    )
    sub.add_argument("--onglet", required=True, help="nom de l'onglet, par exemple Inscriptions")
    fmt = sub.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="tableau JSON d'objets")
    fmt.add_argument("--csv", action="store_true", help="CSV séparé par des points-virgules")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.bavard else logging.WARNING,
        format="%(levelname)s %(name)s : %(message)s",
    )
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        settings = Settings.from_env()
        return args.handler(args, settings)
    except AlerteError as error:
        err.print(f"[red]Erreur :[/red] {error.message}")
        return 75 if error.retryable else 1
    except KeyboardInterrupt:
        err.print("Interrompu.")
        return 130

"""Commands of the sender: verifier, apercu, envoyer, surveiller."""

from __future__ import annotations

import argparse
import signal
import threading
from dataclasses import replace
from typing import TYPE_CHECKING

from rich.markup import escape
from rich.table import Table as RichTable

from sender import schema
from sender.cli.common import command, err, out, print_json
from sender.config import Settings
from sender.dates import format_french
from sender.register import open_register
from sender.register.defaults import whatsapp_text

if TYPE_CHECKING:
    from sender.cycle import CycleReport
    from sender.runner import Sender


def make_sender(settings: Settings) -> Sender:
    from sender.runner import Sender

    return Sender(open_register(settings), settings, console=err)


def _json_argument(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--json", action="store_true", help="résultat en JSON")


@command(
    "verifier",
    "vérifie chaque alerte (règle de l'heure, agent habilité, ciblage) sans rien envoyer",
    "alerte-message verifier --json",
    arguments=_json_argument,
)
def cmd_verifier(args: argparse.Namespace, settings: Settings) -> int:
    sender = make_sender(settings)
    try:
        plans = sender.verify()
        stopped = sender.stopped_warning()
    finally:
        sender.close()
    if stopped:
        err.print(f"[bold red]{escape(stopped)}[/bold red]")
    if args.json:
        print_json([plan.as_json() for plan in plans])
        return 0
    if not plans:
        err.print("Aucune alerte dans l'onglet Alertes.")
        return 0
    table = RichTable(title="Alertes")
    for column in ("id", "verdict", "destinataires", "motif"):
        table.add_column(column, overflow="fold")
    colours = {schema.A_DIFFUSER: "green", schema.REFUSEE: "red", schema.ERREUR: "red",
               schema.DIFFUSEE: "blue", schema.EN_COURS: "yellow"}
    for plan in plans:
        status = plan.shown_status
        colour = colours.get(status, "dim")
        table.add_row(
            escape(plan.alert_id), f"[{colour}]{status}[/{colour}]",
            str(plan.shown_recipients), escape(plan.shown_motif),
        )
    out.print(table)
    return 0


def _apercu_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("id", metavar="ID", help="identifiant de l'alerte (colonne id)")


@command(
    "apercu",
    "montre le message exact, canal par canal, pour une alerte",
    "alerte-message apercu 12",
    arguments=_apercu_arguments,
)
def cmd_apercu(args: argparse.Namespace, settings: Settings) -> int:
    sender = make_sender(settings)
    try:
        plan = sender.preview(args.id)
    finally:
        sender.close()
    if plan.motif:
        err.print(f"[yellow]Cette alerte serait {plan.status} :[/yellow] {plan.motif}")
    for channel, message in plan.messages.items():
        out.rule(f"{channel} — alerte {plan.alert_id}")
        if message.template:
            out.print(f"Modèle WhatsApp : {message.template} ({message.language})")
            for name, value in message.parameters.items():
                out.print(f"  {name} = {value}")
            text = whatsapp_text(message.template, message.parameters)
            if text is not None:
                out.print("Ce que lit l'adhérent :", style="bold")
                out.print(text, markup=False, highlight=False)
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


def _envoyer_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--une-fois", action="store_true", help="un seul passage (c'est le fonctionnement actuel)"
    )


@command(
    "envoyer",
    "un passage complet : nettoyage, vérification, diffusion, écriture des résultats",
    "alerte-message envoyer --une-fois",
    arguments=_envoyer_arguments,
)
def cmd_envoyer(args: argparse.Namespace, settings: Settings) -> int:
    sender = make_sender(settings)
    try:
        err.print(f"Registre : {sender.register.describe()} — canal : {settings.channel}")
        report = sender.run_once()
    finally:
        sender.close()
    _print_cycle(report)
    seconds = f"{report.seconds:.1f}".replace(".", ",")
    err.print(f"Passage terminé en {seconds} s : {report.summary()}.")
    return 0


def watch(settings: Settings, stop: threading.Event) -> None:
    sender = make_sender(settings)
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


def stop_on_signals(stop: threading.Event) -> None:
    """First Ctrl-C/SIGTERM: finish the current cycle, then stop. Second: interrupt now (the
    dispatcher records what is in flight and releases its lock)."""

    def handler(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        err.print("Arrêt demandé : fin du passage en cours… (Ctrl-C encore pour couper net)")

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _surveiller_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--intervalle", type=float, metavar="SECONDES",
        help="délai entre deux passages (par défaut ALERTE_INTERVALLE ou 10 s)",
    )


@command(
    "surveiller",
    "relit le registre à intervalle régulier et diffuse les alertes « à diffuser »",
    "ALERTE_INTERVALLE=30 alerte-message surveiller",
    arguments=_surveiller_arguments,
)
def cmd_surveiller(args: argparse.Namespace, settings: Settings) -> int:
    if args.intervalle:
        settings = replace(settings, poll_seconds=args.intervalle)
    stop = threading.Event()
    stop_on_signals(stop)
    watch(settings, stop)
    return 0

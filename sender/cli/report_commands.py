"""Commands that put the network in figures: statistiques (public page), rapport (préfecture)."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from sender import schema
from sender.cli.common import command, err
from sender.config import Settings
from sender.dates import now
from sender.errors import InputError
from sender.register import open_register
from sender.reporting.aggregate import statistics, summary
from sender.reporting.document import render_report
from sender.reporting.report import build_report
from sender.reporting.store import DEFAULT_PATH as DEFAULT_STATISTICS
from sender.reporting.store import write_statistics
from sender.text import plural


def _read(settings: Settings) -> tuple[list[dict[str, str]], list[dict[str, str]], list[str]]:
    with open_register(settings) as register:
        tables = register.read([schema.INSCRIPTIONS, schema.ALERTES])
    alerts = tables[schema.ALERTES]
    return tables[schema.INSCRIPTIONS].as_dicts(), alerts.as_dicts(), list(alerts.headers)


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    except OSError as exc:
        raise InputError(
            f"Impossible d'écrire {path} ({exc.strerror or exc}) : vérifiez le dossier."
        ) from exc


def _statistiques_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--sortie", metavar="FICHIER",
        help=f"fichier JSON à écrire (par défaut ALERTE_STATISTIQUES, ou {DEFAULT_STATISTICS} "
        "dans ALERTE_DOSSIER : lu par la construction du site)",
    )


@command(
    "statistiques",
    "écrit les chiffres publics du réseau (adhérents par zone et par activité, alertes "
    "par type et par mois) pour la page « Le réseau en chiffres » ; aucun groupe de moins "
    "de 5 personnes n'y figure",
    "alerte-message statistiques --sortie data/statistiques.json && make site",
    arguments=_statistiques_arguments,
)
def cmd_statistiques(args: argparse.Namespace, settings: Settings) -> int:
    inscriptions, alerts, _ = _read(settings)
    document = statistics(inscriptions, alerts, now())
    path = Path(args.sortie) if args.sortie else settings.statistics
    try:
        write_statistics(document, path)
    except OSError as exc:
        raise InputError(
            f"Impossible d'écrire {path} ({exc.strerror or exc}) : vérifiez le dossier."
        ) from exc
    err.print(f"Chiffres écrits dans {path.resolve()} :")
    for line in summary(document):
        err.print(f"  {line}")
    err.print("Reconstruisez le site (make site) pour publier la page « Le réseau en chiffres ».")
    return 0


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(
            f"{option} attend une date AAAA-MM-JJ, par exemple 2026-01-31 (reçu « {text} »)."
        ) from None


def _rapport_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--du", required=True, metavar="AAAA-MM-JJ",
                     help="premier jour de la période (date du signalement)")
    sub.add_argument("--au", required=True, metavar="AAAA-MM-JJ",
                     help="dernier jour de la période, inclus")
    sub.add_argument(
        "--sortie", metavar="FICHIER",
        help="fichier HTML à écrire (par défaut rapport-AAAA-MM-JJ-AAAA-MM-JJ.html)",
    )


@command(
    "rapport",
    "écrit le rapport d'activité d'une période pour la préfecture : un seul fichier HTML "
    "(graphiques, délais, destinataires, remis et lus, refus et leur motif)",
    "alerte-message rapport --du 2026-01-01 --au 2026-06-30 --sortie rapport-semestre.html",
    arguments=_rapport_arguments,
)
def cmd_rapport(args: argparse.Namespace, settings: Settings) -> int:
    first, last = _day(args.du, "--du"), _day(args.au, "--au")
    if first > last:
        raise InputError(f"La période est à l'envers : --du {first} est après --au {last}.")
    inscriptions, alerts, columns = _read(settings)
    ids = [row.get("id", "") for row in alerts if row.get("id")]
    send_times: dict[str, tuple[float, float, int]] = {}
    journal_used = settings.journal.is_file()
    if journal_used:
        from sender.journal.journal import Journal

        with Journal.from_settings(settings) as journal:
            send_times = journal.send_times(ids)
    report = build_report(
        inscriptions, alerts, columns, send_times, first, last, now(), journal_used=journal_used
    )
    path = Path(args.sortie or f"rapport-{first.isoformat()}-{last.isoformat()}.html")
    _write(path, render_report(report))
    err.print(
        f"Rapport écrit dans {path.resolve()} : "
        f"{plural(len(report.broadcast), 'alerte diffusée', 'alertes diffusées')}, "
        f"{plural(len(report.refused), 'alerte refusée', 'alertes refusées')}."
    )
    if not journal_used:
        err.print(
            f"Journal des envois introuvable ({settings.journal}) : délais d'envoi « non mesuré »."
        )
    return 0

"""Commands of the backups: sauvegarder, restaurer."""

from __future__ import annotations

import argparse
from pathlib import Path

from sender.backup import Sources, backup, restore
from sender.cli.common import command, err, local_register
from sender.config import Settings
from sender.register import open_register
from sender.text import plural


def sources_of(settings: Settings) -> Sources:
    return Sources(
        data_dir=settings.data_dir, journal=settings.journal,
        phones=settings.phone_cache_path, secret=settings.secret_path,
        figures=settings.statistics, register_file=local_register(settings),
    )


def _sauvegarder_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "dossier", metavar="DOSSIER", nargs="?",
        help="dossier où écrire l'archive (par défaut sauvegardes/ dans ALERTE_DOSSIER)",
    )


@command(
    "sauvegarder",
    "écrit une archive datée (droits 0600) : registre, journal, mémo des numéros, secret et "
    "chiffres ; sur Google Sheets, chaque onglet exporté. Sans arrêter « surveiller »",
    "alerte-message sauvegarder /mnt/sauvegardes",
    arguments=_sauvegarder_arguments,
)
def cmd_sauvegarder(args: argparse.Namespace, settings: Settings) -> int:
    folder = Path(args.dossier) if args.dossier else settings.home / "sauvegardes"
    sources = sources_of(settings)
    if sources.register_file is None:
        with open_register(settings) as register:
            report = backup(sources, register, folder)
    else:
        report = backup(sources, None, folder)
    err.print(f"Sauvegarde écrite : {report.archive}")
    err.print(f"  contient : {', '.join(report.members)}", highlight=False)
    if report.rows:
        total = sum(report.rows.values())
        err.print(f"  onglets de la feuille Google exportés : {plural(total, 'ligne')}")
    if settings.secret:
        err.print("[yellow]Le secret des liens vient de ALERTE_SECRET : il n'est pas dans "
                  "l'archive, gardez-le à part.[/yellow]")
    err.print("Copiez-la hors de ce serveur, chiffrée : elle contient des numéros de téléphone.")
    return 0


def _restaurer_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("archive", metavar="ARCHIVE", help="archive écrite par « sauvegarder »")


@command(
    "restaurer",
    "remet les données d'une archive dans un dossier de données vide (n'écrase jamais rien)",
    "ALERTE_DOSSIER=/var/lib/alerte-message alerte-message restaurer alerte-message-20270115-"
    "030000.tar.gz",
    arguments=_restaurer_arguments,
)
def cmd_restaurer(args: argparse.Namespace, settings: Settings) -> int:
    sources = sources_of(settings)
    report = restore(Path(args.archive), sources)
    err.print(f"Sauvegarde du {report.created} ({report.register}) restaurée dans "
              f"{sources.data_dir} :")
    for path in report.restored:
        err.print(f"  {path}", highlight=False)
    if report.tabs:
        err.print(
            f"Onglets de la feuille Google exportés, pour mémoire : {report.tabs[0].parent} "
            "(la feuille elle-même n'est pas modifiée)."
        )
    err.print("Relancez « alerte-message surveiller » : il reprend là où le journal s'est arrêté.")
    return 0

"""Commands that print documents for the people around the network: guide-agent."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from sender.cli.common import command, err
from sender.config import Settings
from sender.errors import InputError
from sender.website.details import missing, read_details
from sender.website.officer_guide import officer_guide_html

DEFAULT_GUIDE = "guide-agent.html"


def _guide_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--sortie", metavar="FICHIER", default=DEFAULT_GUIDE,
        help=f"fichier HTML à écrire (par défaut {DEFAULT_GUIDE})",
    )


@command(
    "guide-agent",
    "écrit le guide d'une page « Lancer une alerte » pour les agents (HTML à imprimer en A4 "
    "et à afficher au commissariat ou au centre opérationnel), avec le contact de la CMA",
    "ALERTE_CMA_TELEPHONE='04 66 00 00 00' alerte-message guide-agent --sortie guide-agent.html",
    arguments=_guide_arguments,
)
def cmd_guide_agent(args: argparse.Namespace, settings: Settings) -> int:
    details = read_details({}, os.environ)
    page = officer_guide_html(
        details, stale_hours=settings.stale_hours, poll_seconds=settings.poll_seconds
    )
    path = Path(args.sortie)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page, "utf-8")
    except OSError as exc:
        raise InputError(
            f"Impossible d'écrire {path} ({exc.strerror or exc}) : vérifiez le dossier."
        ) from exc
    err.print(f"Guide écrit dans {path} : ouvrez-le dans un navigateur et imprimez-le en A4.")
    absent = [line for line in missing(details)
              if line.startswith(("téléphone", "adresse électronique"))]
    for line in absent:
        err.print(f"  À compléter pour la rubrique « Qui appeler à la CMA » : {line}")
    return 0

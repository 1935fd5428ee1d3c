"""Command line `alerte-message`: a thin French shell over the library."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

from sender.cli import (  # noqa: F401  (importing them declares their commands)
    alert_commands,
    backup_commands,
    budget_commands,
    diagnostic_commands,
    frenchargs,
    guide_commands,
    privacy_commands,
    register_commands,
    report_commands,
    site_commands,
)
from sender.cli.common import COMMANDS, Command, announce, err
from sender.config import Settings
from sender.errors import AlerteError, ConfigurationError

EX_CONFIG = 78  # sysexits.h: a setting is missing or wrong; restarting will not help

frenchargs.install()

EPILOG = """Exemples :
  alerte-message initialiser
  alerte-message importer liste-cma.xlsx
  alerte-message nettoyer
  alerte-message verifier
  alerte-message surveiller
  alerte-message statistiques
  alerte-message rapport --du 2026-01-01 --au 2026-06-30
  alerte-message sauvegarder

Le registre est choisi par la variable ALERTE_REGISTRE : un fichier SQLite (par défaut
data/registre.sqlite) ou l'adresse d'une feuille Google (avec GOOGLE_APPLICATION_CREDENTIALS)."""

# The order `alerte-message --help` lists the commands in: the life of the register first.
ORDER = (
    "initialiser", "diagnostic", "nettoyer", "importer", "verifier", "apercu", "envoyer",
    "surveiller", "servir", "demarrer", "script-google", "exporter", "statistiques", "rapport",
    "confirmations", "affiche", "guide-agent", "purger", "personne", "sauvegarder", "restaurer",
)


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32, width=100)


def _add_command(commands: argparse._SubParsersAction, spec: Command) -> None:
    sub = commands.add_parser(
        spec.name, help=spec.summary, description=spec.summary,
        epilog=f"Exemple :\n  {spec.example}", formatter_class=_Formatter,
    )
    sub.set_defaults(handler=spec.handler)
    if spec.arguments is not None:
        spec.arguments(sub)


def build_parser() -> argparse.ArgumentParser:
    """The parser of `alerte-message`, assembled from the commands each module declares."""
    if set(ORDER) != set(COMMANDS):
        raise RuntimeError(f"commands out of ORDER: {sorted(set(ORDER) ^ set(COMMANDS))}")
    parser = argparse.ArgumentParser(
        prog="alerte-message",
        description="Alerte Message : registre des adhérents et diffusion des alertes "
        "(police, gendarmerie, CMA de la Lozère).",
        epilog=EPILOG,
        formatter_class=_Formatter,
    )
    parser.add_argument("-v", "--bavard", action="store_true", help="affiche plus de détails")
    commands = parser.add_subparsers(title="commandes", dest="commande", metavar="COMMANDE")
    for name in ORDER:
        _add_command(commands, COMMANDS[name])
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
        announce(settings, args.commande)
        return args.handler(args, settings)
    except ConfigurationError as error:
        err.print(f"[red]Erreur de réglage :[/red] {error.message}")
        return EX_CONFIG
    except AlerteError as error:
        err.print(f"[red]Erreur :[/red] {error.message}")
        return 75 if error.retryable else 1
    except KeyboardInterrupt:
        err.print("Interrompu.")
        return 130

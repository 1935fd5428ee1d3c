"""Command line `alerte-message`: a thin French shell over the library."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Sequence

from sender import schema
from sender.cli import frenchargs
from sender.cli.alert_commands import (
    cmd_apercu,
    cmd_envoyer,
    cmd_surveiller,
    cmd_verifier,
)
from sender.cli.common import err
from sender.cli.register_commands import cmd_exporter, cmd_importer, cmd_initialiser, cmd_nettoyer
from sender.cli.report_commands import cmd_rapport, cmd_statistiques
from sender.cli.site_commands import cmd_demarrer, cmd_script_google, cmd_servir
from sender.config import Settings
from sender.errors import AlerteError
from sender.reporting.store import DEFAULT_PATH as DEFAULT_STATISTICS

frenchargs.install()

EPILOG = """Exemples :
  alerte-message initialiser
  alerte-message importer liste-cma.xlsx
  alerte-message nettoyer
  alerte-message verifier
  alerte-message surveiller
  alerte-message statistiques
  alerte-message rapport --du 2026-01-01 --au 2026-06-30

Le registre est choisi par la variable ALERTE_REGISTRE : un fichier SQLite (par défaut
data/registre.sqlite) ou l'adresse d'une feuille Google (avec GOOGLE_APPLICATION_CREDENTIALS)."""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32, width=100)


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
        help="délai entre deux passages (par défaut ALERTE_INTERVALLE ou 10 s)",
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
        "script-google", cmd_script_google,
        "écrit apps-script/generated.gs : règles, listes et messages du formulaire pour le "
        "script Google (Apps Script)",
        "alerte-message script-google",
    )
    sub.add_argument(
        "--sortie", default="apps-script/generated.gs", help="fichier à écrire "
        "(apps-script/generated.gs)"
    )
    sub = command(
        "exporter", cmd_exporter, "affiche un onglet du registre",
        "alerte-message exporter --onglet Inscriptions --csv > inscriptions.csv",
    )
    sub.add_argument("--onglet", required=True, help="nom de l'onglet, par exemple Inscriptions")
    fmt = sub.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="tableau JSON d'objets")
    fmt.add_argument("--csv", action="store_true", help="CSV séparé par des points-virgules")
    sub = command(
        "statistiques", cmd_statistiques,
        "écrit les chiffres publics du réseau (adhérents par zone et par activité, alertes "
        "par type et par mois) pour la page « Le réseau en chiffres » ; aucun groupe de moins "
        "de 5 personnes n'y figure",
        "alerte-message statistiques --sortie data/statistiques.json && make site",
    )
    sub.add_argument(
        "--sortie", metavar="FICHIER", default=str(DEFAULT_STATISTICS),
        help=f"fichier JSON à écrire (par défaut {DEFAULT_STATISTICS}, lu par la construction "
        "du site)",
    )
    sub = command(
        "rapport", cmd_rapport,
        "écrit le rapport d'activité d'une période pour la préfecture : un seul fichier HTML "
        "(graphiques, délais, destinataires, remis et lus, refus et leur motif)",
        "alerte-message rapport --du 2026-01-01 --au 2026-06-30 --sortie rapport-semestre.html",
    )
    sub.add_argument("--du", required=True, metavar="AAAA-MM-JJ",
                     help="premier jour de la période (date du signalement)")
    sub.add_argument("--au", required=True, metavar="AAAA-MM-JJ",
                     help="dernier jour de la période, inclus")
    sub.add_argument(
        "--sortie", metavar="FICHIER",
        help="fichier HTML à écrire (par défaut rapport-AAAA-MM-JJ-AAAA-MM-JJ.html)",
    )
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

"""Commands on personal data: purger (retention periods), personne (one person's rights)."""

from __future__ import annotations

import argparse
import sys

from rich.markup import escape

from sender.cleaning.phonecache import PhoneCache
from sender.cli.common import command, err, out, print_json
from sender.config import Settings
from sender.dates import now as paris_now
from sender.privacy import person as persons
from sender.privacy.retention import describe_settings, purge
from sender.register import open_register


def _purger_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--simulation", action="store_true",
        help="affiche ce qui serait effacé, sans rien effacer",
    )


@command(
    "purger",
    "efface les données dont la durée de conservation est dépassée (surveiller le fait chaque "
    "jour)",
    "alerte-message purger --simulation",
    arguments=_purger_arguments,
)
def cmd_purger(args: argparse.Namespace, settings: Settings) -> int:
    with open_register(settings) as register:
        err.print(f"Registre : {register.describe()}")
        err.print(f"Réglages : {describe_settings(settings.retention)}.")
        memo = PhoneCache(settings.phone_cache_path)
        report = purge(register, settings, now=paris_now(), simulation=args.simulation,
                       phone=memo)
    if args.simulation:
        out.print("Simulation : rien n'a été effacé. Serait effacé :")
    for line in report.lines():
        out.print(escape(line))
    return 0


def _personne_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("numero", metavar="NUMERO", help="le numéro, écrit de n'importe quelle façon")
    shown = sub.add_mutually_exclusive_group()
    shown.add_argument("--json", action="store_true", help="tout, en JSON (portabilité)")
    shown.add_argument("--csv", action="store_true", help="tout, en CSV (portabilité)")
    shown.add_argument("--effacer", action="store_true",
                       help="efface le numéro partout (après confirmation)")
    shown.add_argument("--suspendre", action="store_true",
                       help="statut « suspendu » : gardé, jamais alerté (limitation)")
    shown.add_argument("--reprendre", action="store_true",
                       help="lève la suspension : statut « actif »")
    sub.add_argument("--oui", action="store_true",
                     help="avec --effacer : ne pas demander de confirmation (scripts)")


def _confirmed(numero: str) -> bool:
    err.print(
        f"Effacer toutes les données du numéro {numero} (registre, journal, mémo, fichier de "
        "sortie) ? Cette opération est définitive."
    )
    try:
        answer = input("Tapez « oui » pour confirmer : ")
    except EOFError:
        err.print()
        return False
    return answer.strip().lower() in ("oui", "o")


@command(
    "personne",
    "montre, exporte, efface ou suspend tout ce qui est détenu sur un numéro (droits RGPD)",
    "alerte-message personne \"06 12 34 56 78\" --json",
    arguments=_personne_arguments,
)
def cmd_personne(args: argparse.Namespace, settings: Settings) -> int:
    numero = persons.number_of(args.numero)
    with open_register(settings) as register:
        found = persons.find(register, settings, numero)
        if args.json:
            print_json(persons.as_json(found))
        elif args.csv:
            sys.stdout.write(persons.as_csv(found))
        elif args.effacer:
            if not (args.oui or _confirmed(numero)):
                err.print("Effacement annulé : rien n'a été modifié.")
                return 1
            for line in persons.erase(register, settings, found, now=paris_now()):
                out.print(escape(line))
        elif args.suspendre or args.reprendre:
            changed = persons.set_suspended(register, found, suspended=args.suspendre)
            state = "suspendue(s)" if args.suspendre else "de nouveau active(s)"
            out.print(f"{changed} inscription(s) {state} pour le numéro {numero}.")
            if not changed:
                out.print("Aucune inscription dans l'état attendu (« actif » pour suspendre, "
                          "« suspendu » pour reprendre).")
        else:
            for line in persons.as_text(found):
                out.print(escape(line))
    return 0

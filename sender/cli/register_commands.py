"""Commands on the register: initialiser, nettoyer, importer, exporter."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table as RichTable

from sender import operations, schema
from sender.cleaning.inscriptions import CleaningReport
from sender.cleaning.phonecache import PhoneCache
from sender.cli.common import command, err, out, print_json
from sender.config import Settings
from sender.register import open_register
from sender.text import plural


@command(
    "initialiser",
    "crée les onglets, les en-têtes et les modèles de message (sans rien effacer)",
    "alerte-message initialiser",
)
def cmd_initialiser(args: argparse.Namespace, settings: Settings) -> int:
    with open_register(settings) as register:
        err.print(f"Registre : {register.describe()}")
        report = register.initialise()
    if not report.changed:
        err.print("Le registre était déjà complet : rien n'a été modifié.")
        for warning in report.warnings:
            err.print(f"  [yellow]• attention : {warning}[/yellow]")
        return 0
    done = (
        ("onglet créé", report.created_tabs),
        ("colonne ajoutée", report.added_columns),
        ("lignes ajoutées", report.added_rows),
        ("mise en forme", report.formatting),
    )
    for label, items in done:
        for item in items:
            err.print(f"  • {label} : {item}")
    for warning in report.warnings:
        err.print(f"  [yellow]• attention : {warning}[/yellow]")
    err.print("[green]Registre prêt.[/green]")
    return 0


def _print_cleaning(report: CleaningReport) -> None:
    counts = report.statuses
    err.print(
        f"{plural(report.rows, 'inscription', 'inscriptions')} : "
        f"{plural(counts.get(schema.ACTIF, 0), 'active', 'actives')}, "
        f"{counts.get(schema.EN_ATTENTE, 0)} en attente de confirmation, "
        f"{plural(counts.get(schema.INVALIDE, 0), 'invalide', 'invalides')}, "
        f"{plural(counts.get(schema.DOUBLON, 0), 'doublon', 'doublons')}, "
        f"{plural(counts.get(schema.DESINSCRIT, 0), 'désinscrite', 'désinscrites')}."
    )
    if report.changes:
        err.print(
            f"{plural(len(report.changes), 'cellule mise à jour', 'cellules mises à jour')} "
            f"({plural(report.changed_rows, 'ligne', 'lignes')})."
        )
    else:
        err.print("Rien de nouveau : aucune écriture dans le registre.")


def _consent(settings: Settings) -> dict[str, Any]:
    """The cleaning's view of confirmations: their validity, and the messages that failed (from
    the dispatch journal, when it can be read); and the suppression list."""
    from sender.cleaning.suppressions import SuppressionList
    from sender.consent.outgoing import failures
    from sender.journal.journal import Journal
    from sender.journal.states import JournalError

    options: dict[str, Any] = {"confirmation_days": settings.confirmation_days}
    with contextlib.suppress(JournalError), Journal.from_settings(settings) as journal:
        options["confirmation_failures"] = failures(journal)
    # Numbers erased after an unsubscription stay out, whatever an imported list says.
    options["suppressed"] = SuppressionList.load(settings)
    return options


@command(
    "nettoyer",
    "vérifie les numéros, repère les doublons et applique les désinscriptions",
    "alerte-message nettoyer",
)
def cmd_nettoyer(args: argparse.Namespace, settings: Settings) -> int:
    cache = PhoneCache(settings.phone_cache_path)
    with open_register(settings) as register:
        err.print(f"Registre : {register.describe()}")
        report = operations.clean_register(register, phone=cache, **_consent(settings))
    cache.save()
    _print_cleaning(report)
    return 0


def _importer_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("fichier", metavar="FICHIER", help="fichier CSV (séparateur ; ou ,) ou XLSX")
    sub.add_argument(
        "--onglet", default=schema.INSCRIPTIONS,
        help="onglet de destination : Inscriptions (par défaut), Alertes ou Habilitations",
    )
    sub.add_argument("--json", action="store_true", help="résultat ligne par ligne en JSON")


@command(
    "importer",
    "ajoute les lignes d'un fichier CSV ou XLSX au registre",
    "alerte-message importer liste-cma.csv --json",
    arguments=_importer_arguments,
)
def cmd_importer(args: argparse.Namespace, settings: Settings) -> int:
    tab = operations.tab_name(args.onglet)
    cache = PhoneCache(settings.phone_cache_path)
    with open_register(settings) as register:
        report = operations.import_file(
            register, Path(args.fichier), tab=tab, phone=cache, **_consent(settings)
        )
    cache.save()
    if args.json:
        if tab == schema.INSCRIPTIONS:
            print_json(report.as_json())
        else:
            print_json(report.rows)
        return 0
    line = f"{plural(report.added, 'ligne importée', 'lignes importées')} dans l'onglet {tab}"
    if report.already:
        line += (
            f" ; {plural(report.already, 'ligne déjà présente', 'lignes déjà présentes')} "
            "dans le registre, non ajoutée" + ("s" if report.already > 1 else "")
        )
    err.print(line + ".")
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


def _exporter_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--onglet", required=True, help="nom de l'onglet, par exemple Inscriptions")
    fmt = sub.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="tableau JSON d'objets")
    fmt.add_argument("--csv", action="store_true", help="CSV séparé par des points-virgules")


@command(
    "exporter",
    "affiche un onglet du registre",
    "alerte-message exporter --onglet Inscriptions --csv > inscriptions.csv",
    arguments=_exporter_arguments,
)
def cmd_exporter(args: argparse.Namespace, settings: Settings) -> int:
    tab = operations.tab_name(args.onglet)
    with open_register(settings) as register:
        table = operations.export_tab(register, tab)
    rows = table.as_dicts()
    if args.csv:
        from sender.register.files import to_csv

        sys.stdout.write(to_csv(table.headers, rows))
    elif args.json:
        print_json(rows)
    else:
        columns = [c for c in SHOWN_COLUMNS.get(tab, table.headers) if c in table.headers]
        view = RichTable(title=f"{tab} ({plural(len(rows), 'ligne', 'lignes')})",
                         show_lines=False, expand=False)
        for header in columns:
            view.add_column(header, overflow="ellipsis", no_wrap=header in NO_WRAP,
                            max_width=WIDEST.get(header))
        for row in rows:
            view.add_row(*(escape(row[h]) for h in columns))
        out.print(view, soft_wrap=False)
        hidden = len(table.headers) - len(columns)
        if hidden:
            err.print(
                f"{plural(hidden, 'autre colonne', 'autres colonnes')} : « --csv » ou "
                "« --json » pour tout voir."
            )
    return 0


# What `exporter` shows without --csv/--json: the columns a person reads, in a table that fits
# 80 columns (long cells are cut with « … »).
SHOWN_COLUMNS: dict[str, tuple[str, ...]] = {
    schema.INSCRIPTIONS: ("id", "nom", "entreprise", "commune", "numero", "statut", "remarque"),
    schema.ALERTES: ("id", "type", "commune", "statut", "diffusee_le", "envoyes", "motif"),
    schema.DESINSCRIPTIONS: ("horodatage", "telephone", "traite"),
    schema.MODELES: ("type", "canal", "modele_whatsapp", "texte"),
    schema.HABILITATIONS: ("identifiant", "nom", "service", "actif"),
    schema.ETAT: ("cle", "valeur", "mis_a_jour"),
}
NO_WRAP = frozenset({"id", "numero", "statut", "telephone", "envoyes", "actif", "cle"})
WIDEST = {"remarque": 24, "motif": 24, "texte": 30, "valeur": 40, "entreprise": 16, "nom": 16}

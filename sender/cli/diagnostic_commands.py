"""`alerte-message diagnostic`: the checklist of an installation, before the first alert."""

from __future__ import annotations

import argparse

from sender.cli.common import command, out, print_json
from sender.config import Settings
from sender.diagnostic import Status, blocking, run

_STYLE = {Status.OK: "green", Status.WARN: "yellow", Status.FAIL: "bold red"}


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="résultat en JSON")


@command(
    "diagnostic",
    "vérifie la configuration et les comptes (Google, WhatsApp, Brevo, site, horloge, disque)",
    "alerte-message diagnostic",
    _arguments,
)
def cmd_diagnostic(args: argparse.Namespace, settings: Settings) -> int:
    lines = run(settings)
    blocked = blocking(lines)
    if args.json:
        print_json({"bloquant": blocked, "controles": [line.as_dict() for line in lines]})
        return 1 if blocked else 0
    for line in lines:
        style = _STYLE[line.status]
        out.print(f"[{style}]{line.status.value}[/{style}] {line.title} : {line.detail}",
                  markup=True, highlight=False)
        if line.fix:
            out.print(f"    → {line.fix}", highlight=False)
    if blocked:
        out.print("[bold red]Des contrôles bloquent l'envoi (✗) : corrigez-les puis relancez "
                  "« alerte-message diagnostic ».[/bold red]")
    else:
        out.print("[green]Rien ne bloque l'envoi.[/green]")
    return 1 if blocked else 0

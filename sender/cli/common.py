"""Shared pieces of the command line: the consoles, JSON output and the command registry.

Each command module declares its commands beside their handlers with `@command(...)`, options
included (`arguments=`), the way sqlite-utils declares click options on each command; the parser
in `sender.cli` only assembles what was declared.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from sender.config import Settings
from sender.errors import RegisterError

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

Handler = Callable[[argparse.Namespace, Settings], int]
Arguments = Callable[[argparse.ArgumentParser], None]


@dataclass(frozen=True)
class Command:
    """One sub-command: its name, handler, one-line French summary, example and options."""

    name: str
    handler: Handler
    summary: str
    example: str
    arguments: Arguments | None = None


COMMANDS: dict[str, Command] = {}


def command(
    name: str, summary: str, example: str, arguments: Arguments | None = None
) -> Callable[[Handler], Handler]:
    """Register the decorated handler as the sub-command `name`."""

    def register(handler: Handler) -> Handler:
        if name in COMMANDS:
            raise ValueError(f"command {name!r} declared twice")
        COMMANDS[name] = Command(name, handler, summary, example, arguments)
        return handler

    return register


def print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


# Commands that may create the register where none is; those that never touch it.
CREATORS = frozenset({"initialiser", "demarrer"})
WITHOUT_REGISTER = frozenset({"script-google", "restaurer", "affiche", "guide-agent"})


def local_register(settings: Settings) -> Path | None:
    """The SQLite register file, or None for a Google sheet."""
    from sender.register.factory import is_google_sheet

    return None if is_google_sheet(settings.register) else Path(settings.register)


def announce(settings: Settings, name: str) -> None:
    """Say which register and journal the command uses; refuse to create a missing local
    register unless the command is one that creates it."""
    if name in WITHOUT_REGISTER:
        return
    local = local_register(settings)
    shown = f"feuille Google {settings.register}" if local is None else str(local)
    err.print(f"[dim]Registre : {shown} — journal : {settings.journal}[/dim]", highlight=False)
    if local is not None and not local.exists() and name not in CREATORS:
        raise RegisterError(
            f"Aucun registre à {local} (dossier de l'installation : {settings.home}, réglable "
            "par ALERTE_DOSSIER). Rien n'a été créé. Lancez la commande depuis le dossier de "
            "l'installation, réglez ALERTE_DOSSIER, ou créez le registre avec « alerte-message "
            "initialiser »."
        )

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

from rich.console import Console

from sender.config import Settings

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

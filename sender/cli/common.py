"""Shared pieces of the command line: consoles, output helpers, opening the register."""

from __future__ import annotations

import json
import sys

from rich.console import Console

from sender.cleaning.phonecache import PhoneCache
from sender.config import Settings

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

def print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")



def phone_cache(settings: Settings) -> PhoneCache:
    return PhoneCache(settings.journal.with_name("numeros.sqlite"))

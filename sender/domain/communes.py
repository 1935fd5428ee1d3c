"""Lenient matching of commune names against the official list of Lozère communes."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sender.text import fold

_DATA = Path(__file__).parent.parent / "data" / "communes-lozere.json"
POLICE_COMMUNE_CODES = frozenset({"48095"})  # Mende; every other commune is gendarmerie zone


@dataclass(frozen=True, slots=True)
class Commune:
    code: str
    nom: str
    zone: str


ABBREVIATIONS = {"st": "saint", "ste": "sainte", "s": "saint"}


def normalise_name(name: str) -> str:
    """Key for comparing names: no accents, no case, no hyphens, `St` → `saint`."""
    words = fold(name or "").split()
    words = [ABBREVIATIONS.get(w, w) for w in words]
    return " ".join(words)


@cache
def _load() -> tuple[tuple[Commune, ...], dict[str, Commune]]:
    raw = json.loads(_DATA.read_text("utf-8"))
    entries = raw["communes"]
    current: dict[str, Commune] = {}
    for entry in entries:
        if entry["type"] == "commune-actuelle":
            code = entry["code"]
            zone = "police" if code in POLICE_COMMUNE_CODES else "gendarmerie"
            current[code] = Commune(code, entry["nom"], zone)
    index: dict[str, Commune] = {}
    for entry in entries:
        if entry["type"] != "commune-actuelle":
            parent = current.get(entry.get("chefLieu", ""))
            if parent is not None:
                index.setdefault(normalise_name(entry["nom"]), parent)
    for commune in current.values():
        index[normalise_name(commune.nom)] = commune  # current names win over former ones
    ordered = tuple(sorted(current.values(), key=lambda c: normalise_name(c.nom)))
    return ordered, index


def name_index() -> dict[str, str]:
    """Comparison key (`normalise_name`) → current commune name, former and delegated names
    included: what `match_commune` looks up (also given to the Apps Script intake)."""
    return {key: commune.nom for key, commune in _load()[1].items()}


def current_communes() -> tuple[Commune, ...]:
    """The 152 current communes, in alphabetical order."""
    return _load()[0]


def match_commune(name: str) -> Commune | None:
    """Find the current commune for a typed name (or postcode + name); None when unknown."""
    key = normalise_name(name)
    if not key:
        return None
    index = _load()[1]
    found = index.get(key)
    if found is not None:
        return found
    # "48000 Mende", "Mende (48)", "Mende 48000": drop numbers and try again.
    without_numbers = " ".join(w for w in key.split() if not w.isdigit())
    if without_numbers != key:
        found = index.get(without_numbers)
        if found is not None or not without_numbers:
            return found
        key = without_numbers
    # "Florac" for "Florac Trois Rivières": accept a prefix that names one commune only.
    prefixed = {c for k, c in index.items() if k.startswith(key + " ")}
    return prefixed.pop() if len(prefixed) == 1 else None


def split_names(text: str) -> list[str]:
    """Split a list of communes typed in one cell: commas, semicolons or new lines."""
    return [part.strip() for part in re.split(r"[;,\n]+", text or "") if part.strip()]

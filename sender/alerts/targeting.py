"""Who receives an alert: active members filtered by zone, communes and trades.

Filters combine with AND; an empty filter keeps everyone. Matching trades is lenient (case,
accents, plurals, a member's trade that contains a targeted one). `select_recipients` makes one
pass over the members and caches the trade decision per distinct trade text, so 100,000 members
cost a set lookup or two each.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sender.schema import ACTIF
from sender.text import cell_text, fold, singular_words

if TYPE_CHECKING:
    from sender.alerts.model import Alert

_E164 = re.compile(r"^\+[1-9]\d{7,14}$")
_PARENS = re.compile(r"^(?P<head>[^()]*)\((?P<inner>[^()]*)\)\s*$")


@dataclass(frozen=True, slots=True)
class Member:
    """An active row of `Inscriptions`, as the sender needs it."""

    id: str
    numero: str  # E.164 with the plus sign
    zone: str = ""  # "police" / "gendarmerie" ("" when unknown)
    code_insee: str = ""
    activite: str = ""
    nom: str = ""
    entreprise: str = ""
    commune: str = ""
    activite_key: str = field(default="", init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "activite_key", _key(self.activite))


def _key(text: str) -> str:
    """Padded comparison key, so that `" boucherie "` in key is a whole-word match."""
    return f" {singular_words(fold(text[:500]))} "


def member_from_row(row: Mapping[str, object]) -> Member | None:
    """A `Member` for an `Inscriptions` row with statut « actif » and an E.164 `numero`."""
    if fold(cell_text(row.get("statut"))[:20]) != ACTIF:
        return None
    numero = "".join(cell_text(row.get("numero"))[:40].split())
    if not _E164.match(numero):
        return None
    return Member(
        id=cell_text(row.get("id"))[:100],
        numero=numero,
        zone=fold(cell_text(row.get("zone"))[:40]),
        code_insee=cell_text(row.get("code_insee"))[:10],
        activite=cell_text(row.get("activite"))[:500],
        nom=cell_text(row.get("nom"))[:200],
        entreprise=cell_text(row.get("entreprise"))[:200],
        commune=cell_text(row.get("commune"))[:200],
    )


def split_activities(text: str) -> list[str]:
    """Split a `cible_activites` cell on commas, semicolons and new lines, not inside (…).

    « Alimentation (boulangerie, boucherie, épicerie…) ; Tabac » gives two activities.
    """
    items: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        if ch in ",;\n" and depth == 0:
            items.append("".join(current))
            current = []
        else:
            current.append(ch)
    items.append("".join(current))
    return [item.strip() for item in items if item.strip()]


def _target_keys(activities: Iterable[str]) -> list[str]:
    """Keys for the targeted trades; a label such as « Alimentation (boulangerie, …) » also
    matches members who typed only « boulangerie »."""
    keys: list[str] = []
    for activity in activities:
        parts = [activity]
        match = _PARENS.match(activity)
        if match:
            parts.append(match["head"])
            parts.extend(re.split(r"[,;/]", match["inner"]))
        for part in parts:
            key = _key(part)
            if key.strip() and key not in keys:
                keys.append(key)
    return keys


def select_recipients(alert: Alert, members: Iterable[Member]) -> list[Member]:
    """Members who must receive `alert`, deduplicated by `numero`, in the members' order."""
    zone = alert.cible_zone if alert.cible_zone not in ("", "toutes") else None
    codes = {commune.code for commune in alert.cible_communes} or None
    keys = _target_keys(alert.cible_activites) or None
    decided: dict[str, bool] = {}
    seen: set[str] = set()
    chosen: list[Member] = []
    for member in members:
        if member.numero in seen:
            continue
        if zone is not None and member.zone != zone:
            continue
        if codes is not None and member.code_insee not in codes:
            continue
        if keys is not None:
            wanted = decided.get(member.activite_key)
            if wanted is None:
                wanted = any(key in member.activite_key for key in keys)
                decided[member.activite_key] = wanted
            if not wanted:
                continue
        seen.add(member.numero)
        chosen.append(member)
    return chosen
